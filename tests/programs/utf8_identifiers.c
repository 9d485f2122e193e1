/* UTF-8 letters in identifiers */
#include <stdio.h>
int Lefèvre = 2;
double π = 3.14159;
static int café(int x) { return x + Lefèvre; }
int main(void)
{
    int größe = 40;
    printf("%d %.2f\n", café(größe), π);
    return 0;
}
