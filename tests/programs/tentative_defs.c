/* tentative definitions: declared twice, defined once */
#include <stdio.h>
int count;
int count;
int values[3];
int count = 5;
double ratio;
int main(void)
{
    values[1] = count * 2;
    printf("%d %d %.1f\n", count, values[1], ratio);
    return 0;
}
