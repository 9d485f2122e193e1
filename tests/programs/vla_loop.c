/* a VLA made anew in each iteration */
#include <stdio.h>
int main(void)
{
    for (int n = 1; n <= 5; n++) {
        char buf[n + 1];
        for (int i = 0; i < n; i++) buf[i] = 'a' + i;
        buf[n] = 0;
        printf("%s\n", buf);
    }
    return 0;
}
