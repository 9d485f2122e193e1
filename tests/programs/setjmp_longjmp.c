/* setjmp and longjmp as a tiny exception mechanism */
#include <stdio.h>
#include <setjmp.h>
static jmp_buf on_error;
static int divide(int a, int b)
{
    if (b == 0) longjmp(on_error, 1);
    return a / b;
}
int main(void)
{
    int pairs[][2] = { { 10, 2 }, { 7, 0 }, { 9, 3 } };
    for (int i = 0; i < 3; i++) {
        if (setjmp(on_error) == 0) printf("%d\n", divide(pairs[i][0], pairs[i][1]));
        else printf("division by zero in pair %d\n", i);
    }
    return 0;
}
