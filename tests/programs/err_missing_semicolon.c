/* a compile error: a missing semicolon */
#include <stdio.h>
int main(void)
{
    int x = 1
    printf("%d\n", x);
    return 0;
}
