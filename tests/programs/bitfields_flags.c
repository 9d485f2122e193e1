/* bitfields: flags and small counters */
#include <stdio.h>
struct flags {
    unsigned read : 1, write : 1, exec : 1;
    unsigned level : 3;
    signed delta : 4;
};
int main(void)
{
    struct flags f = { 1, 0, 1, 5, -3 };
    printf("r%u w%u x%u level %u delta %d\n", f.read, f.write, f.exec, f.level, f.delta);
    f.level += 3;                 /* wraps at 8 */
    f.delta = 7;
    f.delta++;                    /* wraps to -8 */
    printf("level %u delta %d size %zu\n", f.level, f.delta, sizeof f);
    return 0;
}
