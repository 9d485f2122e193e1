/* an include of a .c file inside a conditional, main outside */
#include <stdio.h>
#define USE_MATHLIB 1
#if USE_MATHLIB

#include "include/mathlib.c"
#define DESCRIBE "with mathlib"
#else
static long gcd(long a, long b) { return 1; }
#define DESCRIBE "without"
#endif
int main(void) { printf("%s: gcd(12, 18) = %ld\n", DESCRIBE, gcd(12, 18)); return 0; }
