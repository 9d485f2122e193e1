/* exit() deep in a call chain ends the program */
#include <stdio.h>
#include <stdlib.h>
static void check(int depth)
{
    if (depth == 3) { printf("giving up at depth %d\n", depth); exit(2); }
    printf("depth %d\n", depth);
    check(depth + 1);
}
int main(void) { check(0); puts("not reached"); return 0; }
