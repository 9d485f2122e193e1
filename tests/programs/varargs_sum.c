/* stdarg: a sum of ints, a sentinel list and va_copy */
#include <stdio.h>
#include <stdarg.h>
static int sum(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    int s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}
static void words(const char *first, ...)
{
    va_list ap, again;
    va_start(ap, first);
    va_copy(again, ap);
    int n = 0;
    for (const char *w = first; w; w = va_arg(ap, const char *)) n++;
    printf("%d words:", n);
    printf(" %s", first);
    for (const char *w = va_arg(again, const char *); w; w = va_arg(again, const char *)) printf(" %s", w);
    printf("\n");
    va_end(again);
    va_end(ap);
}
int main(void)
{
    printf("%d %d\n", sum(3, 1, 2, 3), sum(0));
    words("alpha", "beta", "gamma", (char *)NULL);
    return 0;
}
