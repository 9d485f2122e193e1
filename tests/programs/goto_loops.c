/* labels and goto out of nested loops */
#include <stdio.h>
int main(void)
{
    int found_i = -1, found_j = -1;
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++)
            if (i * j == 42) { found_i = i; found_j = j; goto done; }
done:
    printf("%d * %d = 42\n", found_i, found_j);
    int n = 0;
again:
    n++;
    if (n < 5) goto again;
    printf("n = %d\n", n);
    return 0;
}
