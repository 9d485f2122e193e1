/* a compile error from #error */
#include <stdio.h>
#define SIZE 3
#if SIZE < 4
#error SIZE must be at least 4
#endif
int main(void) { return 0; }
