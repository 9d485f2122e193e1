/* Variadic functions: a sum, a max of doubles, and a logger built on
 * vsnprintf. */
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

int sum(int count, ...)
{
    va_list ap;
    int total = 0;
    va_start(ap, count);
    for (int i = 0; i < count; i++)
        total += va_arg(ap, int);
    va_end(ap);
    return total;
}

double max_of(int count, ...)
{
    va_list ap;
    va_start(ap, count);
    double best = va_arg(ap, double);
    for (int i = 1; i < count; i++) {
        double x = va_arg(ap, double);
        if (x > best)
            best = x;
    }
    va_end(ap);
    return best;
}

static int log_lines;

void logf_(const char *level, const char *fmt, ...)
{
    char msg[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("%03d [%s] %s (%d chars)\n", ++log_lines, level, msg, n);
}

char *concat(char *out, ...)
{
    va_list ap;
    va_start(ap, out);
    out[0] = '\0';
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        strcat(out, s);
    va_end(ap);
    return out;
}

int main(void)
{
    printf("%d %d %d\n", sum(0), sum(3, 1, 2, 3), sum(5, 10, -20, 30, -40, 50));
    printf("%.2f\n", max_of(4, 1.5, -2.0, 9.25, 3.0));
    logf_("info", "started with %d workers", 4);
    logf_("warn", "%s is %.1f%% full", "/tmp", 93.25);
    char buf[64];
    printf("%s\n", concat(buf, "con", "cat", "en", "ation", (char *)NULL));
    return 0;
}
