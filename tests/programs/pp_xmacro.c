/* X macros: one list, an enum and a table of names */
#include <stdio.h>
#define COLORS X(RED) X(GREEN) X(BLUE)
#define X(c) c,
enum color { COLORS NCOLORS };
#undef X
#define X(c) #c,
static const char *names[] = { COLORS };
#undef X
int main(void)
{
    for (int i = 0; i < NCOLORS; i++) printf("%d=%s\n", i, names[i]);
    return 0;
}
