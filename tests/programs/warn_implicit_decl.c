/* an implicit declaration is a warning, and the call works */
#include <stdio.h>
int main(void)
{
    printf("%d\n", helper(20));
    return 0;
}
int helper(int x) { return x + 1; }
