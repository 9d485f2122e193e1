/* a weak default that a strong definition replaces */
#include <stdio.h>
__attribute__((weak)) const char *backend(void) { return "default backend"; }
__attribute__((weak)) int tuning = 1;
int limit(void) { return 10 * tuning; }
int main(void)
{
    printf("%s, limit %d\n", backend(), limit());
    return 0;
}
