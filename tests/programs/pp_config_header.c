/* configuration by macros: defaults unless defined before */
#include <stdio.h>
#define BUFFER_SIZE 64
#ifndef BUFFER_SIZE
#define BUFFER_SIZE 16
#endif
#ifndef GREETING
#define GREETING "hello"
#endif
#if BUFFER_SIZE >= 32 && defined(GREETING)
static const char *mode = "big";
#else
static const char *mode = "small";
#endif
int main(void)
{
    char buf[BUFFER_SIZE];
    snprintf(buf, sizeof buf, "%s, %s buffer of %d", GREETING, mode, BUFFER_SIZE);
    puts(buf);
    return 0;
}
