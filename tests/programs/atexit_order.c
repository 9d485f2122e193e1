/* atexit handlers run last registered first, after main returns */
#include <stdio.h>
#include <stdlib.h>
static void one(void) { puts("one"); }
static void two(void) { puts("two"); }
static void three(void) { puts("three"); }
int main(void)
{
    atexit(one);
    atexit(two);
    atexit(three);
    puts("main returns");
    return 0;
}
