/* warnings only: the program still runs */
#include <stdio.h>
int main(void)
{
    int *p = 0x10;
    char *q = p;
    printf("%d\n", p == (int *)q);
    return 0;
}
