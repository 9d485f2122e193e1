/* __LINE__ and friends in a program */
#include <stdio.h>
#define HERE() printf("line %d\n", __LINE__)
int main(void)
{
    HERE();
    HERE();
    printf("%d\n", __STDC__);
    return 0;
}
