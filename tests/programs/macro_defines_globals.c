/* globals declared by a macro, with a ';' in it and without */
#include <stdio.h>
#define COUNTER(name) static int name##_count = 0;
#define GETTER(name) int get_##name(void) { return ++name##_count; }
COUNTER(apples)
COUNTER(pears)
GETTER(apples)
GETTER(pears)
int main(void)
{
    get_apples(); get_apples(); get_pears();
    printf("apples %d pears %d\n", apples_count, pears_count);
    return 0;
}
