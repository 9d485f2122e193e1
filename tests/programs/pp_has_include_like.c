/* standard macros decide the code: __STDC_VERSION__, INT_MAX, EOF */
#include <stdio.h>
#include <limits.h>
#if __STDC_VERSION__ >= 201112L
static const char *std = "C11 or later";
#else
static const char *std = "before C11";
#endif
#if INT_MAX == 2147483647
#define INT_BITS 32
#else
#define INT_BITS 0
#endif
int main(void) { printf("%s, %d-bit int, EOF %d\n", std, INT_BITS, EOF); return 0; }
