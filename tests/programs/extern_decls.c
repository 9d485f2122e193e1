/* extern declarations before the definitions */
#include <stdio.h>
extern int counter;
extern const char *greeting;
extern int bump(int by);
int main(void)
{
    bump(2);
    bump(3);
    printf("%s %d\n", greeting, counter);
    return 0;
}
int counter = 10;
const char *greeting = "count:";
int bump(int by) { return counter += by; }
