/* N queens by backtracking: count the solutions for 1..8 and draw the
 * first one for 6. */
#include <stdio.h>
#include <stdlib.h>

static int cols[12];
static int found;

int safe(int row, int col)
{
    for (int r = 0; r < row; r++)
        if (cols[r] == col || abs(cols[r] - col) == row - r)
            return 0;
    return 1;
}

int solve(int row, int n, int draw)
{
    if (row == n) {
        if (draw && found == 0)
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < n; c++)
                    printf("%c", cols[r] == c ? 'Q' : '.');
                printf("\n");
            }
        found++;
        return 1;
    }
    int total = 0;
    for (int c = 0; c < n; c++)
        if (safe(row, c)) {
            cols[row] = c;
            total += solve(row + 1, n, draw);
        }
    return total;
}

int main(void)
{
    for (int n = 1; n <= 8; n++) {
        found = 0;
        printf("%d queens: %d solutions\n", n, solve(0, n, 0));
    }
    found = 0;
    solve(0, 6, 1);
    return 0;
}
