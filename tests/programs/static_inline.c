/* static inline helpers and static locals */
#include <stdio.h>
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int clamp(int x, int lo, int hi) { return min(x < lo ? lo : x, hi); }
static int next_id(void) { static int id = 100; return id++; }
int main(void)
{
    printf("%d %d %d\n", clamp(-5, 0, 10), clamp(5, 0, 10), clamp(50, 0, 10));
    int a = next_id(), b = next_id(), c = next_id();
    printf("%d %d %d\n", a, b, c);
    return 0;
}
