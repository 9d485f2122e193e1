/* a compile error: goto to a label that does not exist */
#include <stdio.h>
int main(void)
{
    int i = 0;
top:
    i++;
    if (i < 3) goto top;
    goto bottom;
    return 0;
}
