/* long double and integer limits */
#include <stdio.h>
#include <stdint.h>
#include <inttypes.h>
int main(void)
{
    long double x = 1.0L / 3;
    printf("%.10Lf %zu\n", x, sizeof x);
    int64_t big = INT64_MAX;
    uint8_t small = 250;
    small += 10;
    printf("%" PRId64 " %u\n", big, small);
    return 0;
}
