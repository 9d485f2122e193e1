/* constructor priorities */
#include <stdio.h>
__attribute__((constructor(300))) static void third(void) { puts("300"); }
__attribute__((constructor(101))) static void first(void) { puts("101"); }
__attribute__((constructor(200))) static void second(void) { puts("200"); }
__attribute__((destructor(101))) static void last(void) { puts("~101"); }
__attribute__((destructor(200))) static void before_last(void) { puts("~200"); }
int main(void) { puts("main"); return 0; }
