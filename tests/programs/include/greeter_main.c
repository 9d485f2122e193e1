/* included by include_main.c: a whole program, main and all */
#include <stdio.h>
#include <string.h>

static const char *greet(const char *who)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "hello, %s (%zu letters)", who, strlen(who));
    return buf;
}

int main(void)
{
    puts(greet("world"));
    puts(greet("ckernel"));
    return 0;
}
