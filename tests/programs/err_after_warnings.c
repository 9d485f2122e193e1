/* warnings before the error are shown too */
#include <stdio.h>
int f(void) { int *p = 5; return *p; }
int g(void) { char *s = 42; return s[0]; }
int h(void) { return 1 + ; }
int main(void) { return f() + g() + h(); }
