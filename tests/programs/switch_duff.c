/* Duff's device: a switch into a loop */
#include <stdio.h>
static void copy(int *to, const int *from, int count)
{
    int n = (count + 3) / 4;
    switch (count % 4) {
    case 0: do { *to++ = *from++;
    case 3:      *to++ = *from++;
    case 2:      *to++ = *from++;
    case 1:      *to++ = *from++;
            } while (--n > 0);
    }
}
int main(void)
{
    int a[7] = {1, 2, 3, 4, 5, 6, 7}, b[7] = {0};
    copy(b, a, 7);
    for (int i = 0; i < 7; i++) printf("%d ", b[i]);
    printf("\n");
    return 0;
}
