/* # and ## in macros */
#include <stdio.h>
#define STR(x) #x
#define XSTR(x) STR(x)
#define CAT(a, b) a##b
#define VERSION 3
int CAT(value, 1) = 10, CAT(value, 2) = 20;
int main(void)
{
    printf("%s %s\n", STR(hello world), XSTR(VERSION));
    printf("%d\n", value1 + value2);
    return 0;
}
