/* main chosen by #elif defined */
#include <stdio.h>
#define SECOND 1
#if defined FIRST
int main(void) { puts("first"); return 0; }
#elif defined SECOND
int main(void) { puts("second"); return 0; }
#else
int main(void) { puts("neither"); return 0; }
#endif
