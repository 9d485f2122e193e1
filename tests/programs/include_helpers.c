/* helpers from an included .c file, main here */
#include <stdio.h>
#include "include/mathlib.c"
int main(void)
{
    printf("gcd %ld lcm %ld square %d\n", gcd(84, 36), lcm(4, 6), SQUARE(7));
    return 0;
}
