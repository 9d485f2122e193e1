/* constructors and destructors around main */
#include <stdio.h>
__attribute__((constructor)) static void setup(void) { puts("setup"); }
__attribute__((destructor)) static void teardown(void) { puts("teardown"); }
int main(void) { puts("main"); return 0; }
