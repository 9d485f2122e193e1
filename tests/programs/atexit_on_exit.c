/* on_exit sees the status that exit() was given */
#include <stdio.h>
#include <stdlib.h>
static void report(int status, void *arg) { printf("%s: status %d\n", (const char *)arg, status); }
static void plain(void) { puts("plain handler"); }
int main(void)
{
    on_exit(report, "first");
    atexit(plain);
    on_exit(report, "last");
    puts("exiting with 7");
    exit(7);
    puts("not reached");
}
