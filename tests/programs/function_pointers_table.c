/* a table of function pointers and a typedef for them */
#include <stdio.h>
#include <string.h>
typedef double (*op_fn)(double, double);
static double add(double a, double b) { return a + b; }
static double sub(double a, double b) { return a - b; }
static double mul(double a, double b) { return a * b; }
static const struct { const char *name; op_fn fn; } ops[] = { { "add", add }, { "sub", sub }, { "mul", mul } };
static op_fn find(const char *name)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(ops[i].name, name)) return ops[i].fn;
    return NULL;
}
int main(void)
{
    printf("%.1f %.1f %.1f %s\n", find("add")(2, 3), find("sub")(2, 3), find("mul")(2, 3),
           find("div") ? "div?" : "no div");
    return 0;
}
