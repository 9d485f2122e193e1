/* a warning: incompatible pointer types */
#include <stdio.h>
static void show(const long *p) { printf("%s\n", p ? "pointer" : "null"); }
int main(void)
{
    double d = 1;
    show(&d);
    return 0;
}
