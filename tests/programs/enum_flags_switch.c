/* enums as bit flags, printed with a switch on each bit */
#include <stdio.h>
enum perm { READ = 1 << 0, WRITE = 1 << 1, EXEC = 1 << 2 };
static void show(unsigned p)
{
    for (unsigned bit = 1; bit <= EXEC; bit <<= 1) {
        switch (p & bit) {
        case READ: putchar('r'); break;
        case WRITE: putchar('w'); break;
        case EXEC: putchar('x'); break;
        default: putchar('-');
        }
    }
    putchar('\n');
}
int main(void)
{
    show(READ | EXEC);
    show(WRITE);
    show(READ | WRITE | EXEC);
    return 0;
}
