/* macros that expand to statements, used inside functions */
#include <stdio.h>
#define SWAP(a, b) do { int t_ = (a); (a) = (b); (b) = t_; } while (0)
#define REPEAT(n) for (int i_ = 0; i_ < (n); i_++)
#define MAX(a, b) ((a) > (b) ? (a) : (b))
int main(void)
{
    int x = 1, y = 2;
    SWAP(x, y);
    printf("%d %d\n", x, y);
    REPEAT(3) printf("*");
    printf("\n%d\n", MAX(x * 10, y * 10));
    return 0;
}
