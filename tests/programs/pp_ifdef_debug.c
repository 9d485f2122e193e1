/* a debug switch around statements in functions */
#include <stdio.h>
#define DEBUG 1
int sum(const int *a, int n)
{
    int s = 0;
    for (int i = 0; i < n; i++) {
        s += a[i];
#if DEBUG
        printf("after %d: %d\n", i, s);
#endif
    }
    return s;
}
int main(void) { int a[] = {3, 1, 4}; printf("sum %d\n", sum(a, 3)); return 0; }
