/* strtok_r, strspn and friends */
#include <stdio.h>
#include <string.h>
int main(void)
{
    char line[] = "alpha, beta;gamma  delta";
    char *save = NULL;
    int n = 0;
    for (char *w = strtok_r(line, ",; ", &save); w; w = strtok_r(NULL, ",; ", &save))
        printf("%d:%s\n", ++n, w);
    printf("%zu %zu\n", strspn("aaabc", "a"), strcspn("hello world", " "));
    return 0;
}
