/* definitions made by a macro at top level */
#include <stdio.h>
#define DEF(n) int f##n(void) { return n; }
DEF(1)
DEF(2)
int main(void) { printf("%d\n", f1() + f2()); return 0; }
