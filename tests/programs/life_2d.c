/* 2D arrays: Conway's game of life on a small torus, and Pascal's
 * triangle. */
#include <stdio.h>
#include <string.h>

#define ROWS 6
#define COLS 6

void show(char g[ROWS][COLS], int gen)
{
    printf("generation %d\n", gen);
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++)
            putchar(g[r][c] ? '#' : '.');
        putchar('\n');
    }
}

void step(char g[ROWS][COLS])
{
    char next[ROWS][COLS];
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) {
            int n = 0;
            for (int dr = -1; dr <= 1; dr++)
                for (int dc = -1; dc <= 1; dc++)
                    if (dr || dc)
                        n += g[(r + dr + ROWS) % ROWS][(c + dc + COLS) % COLS];
            next[r][c] = n == 3 || (n == 2 && g[r][c]);
        }
    memcpy(g, next, sizeof next);
}

int main(void)
{
    char grid[ROWS][COLS] = {0};
    /* a glider */
    grid[0][1] = grid[1][2] = grid[2][0] = grid[2][1] = grid[2][2] = 1;
    show(grid, 0);
    for (int gen = 1; gen <= 4; gen++)
        step(grid);
    show(grid, 4);

    long pascal[8][8] = {{0}};
    for (int n = 0; n < 8; n++) {
        pascal[n][0] = pascal[n][n] = 1;
        for (int k = 1; k < n; k++)
            pascal[n][k] = pascal[n - 1][k - 1] + pascal[n - 1][k];
    }
    for (int n = 0; n < 8; n++) {
        printf("%*s", (7 - n) * 2, "");
        for (int k = 0; k <= n; k++)
            printf("%4ld", pascal[n][k]);
        printf("\n");
    }
    return 0;
}
