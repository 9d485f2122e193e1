/* a compile error: no such member */
#include <stdio.h>
struct account { long balance; };
int main(void)
{
    struct account a = { 100 };
    printf("%ld\n", a.balanse);
    return 0;
}
