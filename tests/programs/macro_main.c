/* main itself comes from a macro */
#include <stdio.h>
#define PROGRAM(body) int main(void) { body return 0; }
#define SAY(s) puts(s);
PROGRAM(SAY("made by a macro") SAY("twice"))
