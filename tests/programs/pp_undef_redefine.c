/* #undef and a macro defined again in the middle of a program */
#include <stdio.h>
#define SCALE 2
static int first(int x) { return x * SCALE; }
#undef SCALE
#define SCALE 10
static int second(int x) { return x * SCALE; }
int main(void) { printf("%d %d\n", first(3), second(3)); return 0; }
