/* deep-ish recursion: Ackermann and mutual recursion */
#include <stdio.h>
static int ack(int m, int n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}
static int is_odd(unsigned n);
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }
int main(void)
{
    printf("ack(2,3)=%d ack(3,3)=%d\n", ack(2, 3), ack(3, 3));
    printf("%d %d\n", is_even(1000), is_odd(777));
    return 0;
}
