/* a warning: returning a pointer from an int function */
#include <stdio.h>
static int bad(void) { static int x; return &x; }
int main(void)
{
    printf("%s\n", bad() ? "nonzero" : "zero");
    return 0;
}
