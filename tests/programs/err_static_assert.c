/* a compile error from _Static_assert */
#include <stdio.h>
struct header { char tag; int length; };
_Static_assert(sizeof(struct header) == 5, "header must be packed");
int main(void) { return 0; }
