/* #if 0 used as a comment around broken code */
#include <stdio.h>
#if 0
this is not C at all { ;
int main(void) { return 1; }
#endif
int main(void) { puts("the real main"); return 0; }
