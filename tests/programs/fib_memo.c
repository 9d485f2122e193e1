/* Fibonacci three ways: naive recursion, memoized recursion, iteration. */
#include <stdio.h>

long fib_slow(int n) { return n < 2 ? n : fib_slow(n - 1) + fib_slow(n - 2); }

long memo[91];

long fib_memo(int n)
{
    if (n < 2)
        return n;
    if (memo[n])
        return memo[n];
    return memo[n] = fib_memo(n - 1) + fib_memo(n - 2);
}

long fib_iter(int n)
{
    long a = 0, b = 1;
    while (n-- > 0) {
        long t = a + b;
        a = b;
        b = t;
    }
    return a;
}

int ackermann(int m, int n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

int main(void)
{
    for (int i = 0; i <= 10; i++)
        printf("%ld ", fib_slow(i));
    printf("\n");
    printf("fib(50) = %ld\n", fib_memo(50));
    printf("fib(90) = %ld\n", fib_iter(90));
    printf("same: %s\n", fib_memo(90) == fib_iter(90) ? "yes" : "no");
    printf("ackermann(2, 3) = %d\n", ackermann(2, 3));
    return 0;
}
