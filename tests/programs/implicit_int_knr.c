/* old style: a function declared with empty parentheses */
#include <stdio.h>
int twice();
int main(void)
{
    printf("%d\n", twice(21));
    return 0;
}
int twice(x) int x; { return 2 * x; }
