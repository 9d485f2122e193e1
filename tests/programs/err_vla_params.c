/* tcc 0.9.27 does not take a VLA parameter sized by an earlier one: an error, as with tcc -run */
#include <stdio.h>
static void fill(int n, int m, int a[n][m])
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) a[i][j] = i * m + j;
}
static int trace(int n, int a[n][n])
{
    int t = 0;
    for (int i = 0; i < n; i++) t += a[i][i];
    return t;
}
int main(void)
{
    for (int n = 2; n <= 4; n++) {
        int a[n][n];
        fill(n, n, a);
        printf("n=%d sizeof=%zu trace=%d\n", n, sizeof a, trace(n, a));
    }
    return 0;
}
