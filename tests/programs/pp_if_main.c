/* main inside a preprocessor conditional */
#include <stdio.h>
#if 1
int main(void) { puts("hello from main"); return 0; }
#endif
