/* K&R-style function definitions */
#include <stdio.h>
int add(a, b)
    int a, b;
{
    return a + b;
}
double scale(x, factor)
    double x;
    int factor;
{
    return x * factor;
}
long count(s)
    char *s;
{
    long n = 0;
    while (*s++) n++;
    return n;
}
int main(void)
{
    printf("%d %.1f %ld\n", add(2, 3), scale(1.5, 4), count("kernighan"));
    return 0;
}
