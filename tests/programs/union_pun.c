/* unions for type punning and tagged variants */
#include <stdio.h>
#include <stdint.h>
union bits { float f; uint32_t u; };
struct value { enum { INT, REAL, TEXT } tag; union { int i; double r; const char *s; } as; };
static void show(struct value v)
{
    switch (v.tag) {
    case INT: printf("int %d\n", v.as.i); break;
    case REAL: printf("real %.3f\n", v.as.r); break;
    case TEXT: printf("text %s\n", v.as.s); break;
    }
}
int main(void)
{
    union bits b = { .f = 1.0f };
    printf("%#x\n", (unsigned)b.u);
    struct value vs[] = { { INT, { .i = 4 } }, { REAL, { .r = 2.5 } }, { TEXT, { .s = "hi" } } };
    for (int i = 0; i < 3; i++) show(vs[i]);
    return 0;
}
