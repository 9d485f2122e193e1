/* _Generic behind a macro */
#include <stdio.h>
#define TYPE_NAME(x) _Generic((x), int: "int", double: "double", char *: "char *", default: "other")
int main(void)
{
    int i = 1; double d = 2; char *s = "s"; long l = 3;
    printf("%s %s %s %s\n", TYPE_NAME(i), TYPE_NAME(d), TYPE_NAME(s), TYPE_NAME(l));
    return 0;
}
