/* prototypes made by a macro, definitions after main */
#include <stdio.h>
#define DECLARE(name) static int name(int);
DECLARE(twice)
DECLARE(square)
int main(void) { printf("%d %d\n", twice(21), square(12)); return 0; }
static int twice(int x) { return 2 * x; }
static int square(int x) { return x * x; }
