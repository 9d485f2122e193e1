/* main's return value: EXIT_SUCCESS and EXIT_FAILURE */
#include <stdio.h>
#include <stdlib.h>
static int parse(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end) return 0;
    *out = (int)v;
    return 1;
}
int main(void)
{
    int v;
    const char *inputs[] = { "42", "4x2" };
    for (int i = 0; i < 2; i++) {
        if (!parse(inputs[i], &v)) { printf("bad input %s\n", inputs[i]); return EXIT_FAILURE; }
        printf("got %d\n", v);
    }
    return EXIT_SUCCESS;
}
