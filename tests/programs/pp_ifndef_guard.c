/* a whole program inside an include guard */
#ifndef PROGRAM_H
#define PROGRAM_H
#include <stdio.h>
static int square(int x) { return x * x; }
int main(void)
{
    for (int i = 1; i <= 4; i++) printf("%d ", square(i));
    printf("\n");
    return 0;
}
#endif
