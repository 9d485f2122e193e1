/* static locals keep state between calls: a generator */
#include <stdio.h>
static int next_fib(void)
{
    static int a = 0, b = 1;
    int r = a;
    int t = a + b;
    a = b;
    b = t;
    return r;
}
int main(void)
{
    for (int i = 0; i < 12; i++) printf("%d ", next_fib());
    printf("\n");
    return 0;
}
