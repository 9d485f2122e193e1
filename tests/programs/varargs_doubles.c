/* variadic functions with doubles, longs and vprintf */
#include <stdio.h>
#include <stdarg.h>
static double mean(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    double s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, double);
    va_end(ap);
    return s / n;
}
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("say: ");
    vprintf(fmt, ap);
    va_end(ap);
}
int main(void)
{
    printf("%.3f\n", mean(4, 1.0, 2.0, 3.5, 4.5));
    say("%ld %s %c %.1f\n", 1234567890123L, "mixed", 'x', 0.25);
    return 0;
}
