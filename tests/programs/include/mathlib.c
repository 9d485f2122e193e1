/* included by include_helpers.c and pp_include_in_conditional.c */
#include <stdlib.h>

static long gcd(long a, long b) { return b ? gcd(b, a % b) : labs(a); }
static long lcm(long a, long b) { return a / gcd(a, b) * b; }
#define SQUARE(x) ((x) * (x))
