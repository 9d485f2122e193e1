/* a conditional around top-level statements and a global */
#include <stdio.h>
#define VERBOSE
int calls;
#ifdef VERBOSE
static void note(const char *s) { calls++; printf("note: %s\n", s); }
#else
static void note(const char *s) { calls++; }
#endif
int main(void)
{
    note("one");
    note("two");
    printf("%d calls\n", calls);
    return 0;
}
