/* an object-like macro that expands to a declaration */
#include <stdio.h>
#define DECLARE_TABLE static const int table[] = { 1, 1, 2, 3, 5, 8 };
DECLARE_TABLE
#define N (sizeof table / sizeof table[0])
int main(void)
{
    int s = 0;
    for (unsigned i = 0; i < N; i++) s += table[i];
    printf("%u items, sum %d\n", (unsigned)N, s);
    return 0;
}
