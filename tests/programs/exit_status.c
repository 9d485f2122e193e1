/* main returns a non-zero status: that is not an error of the cell. */
#include <stdio.h>

int check(int x) { return x % 2 == 0; }

int main(void)
{
    int failures = 0;
    int xs[] = {2, 4, 7, 8, 9};
    for (int i = 0; i < 5; i++)
        if (!check(xs[i])) {
            printf("check failed for %d\n", xs[i]);
            failures++;
        }
    printf("%d failures\n", failures);
    return failures;
}
