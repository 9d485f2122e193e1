/* nested conditionals choose the helpers and main */
#include <stdio.h>
#define LEVEL 2
#if LEVEL > 1
#  if LEVEL > 2
static const char *name(void) { return "high"; }
#  else
static const char *name(void) { return "medium"; }
#  endif
#else
static const char *name(void) { return "low"; }
#endif
#ifdef LEVEL
int main(void) { printf("level %d is %s\n", LEVEL, name()); return 0; }
#endif
