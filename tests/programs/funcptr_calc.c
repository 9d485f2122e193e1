/* Function pointers: a dispatch table, a callback, and a function that
 * returns a function pointer. */
#include <stdio.h>
#include <string.h>

typedef int (*binop)(int, int);

int add(int a, int b) { return a + b; }
int sub(int a, int b) { return a - b; }
int mul(int a, int b) { return a * b; }
int divide(int a, int b) { return b ? a / b : 0; }

struct op {
    const char *name;
    char symbol;
    binop fn;
};

static const struct op ops[] = {
    {"add", '+', add}, {"sub", '-', sub}, {"mul", '*', mul}, {"div", '/', divide},
};

binop lookup(char symbol)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].symbol == symbol)
            return ops[i].fn;
    return NULL;
}

void apply_all(const int *xs, int n, int (*f)(int))
{
    for (int i = 0; i < n; i++)
        printf("%d ", f(xs[i]));
    printf("\n");
}

int square(int x) { return x * x; }
int negate(int x) { return -x; }

int main(void)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        printf("%s: 17 %c 5 = %d\n", ops[i].name, ops[i].symbol, ops[i].fn(17, 5));
    const char *expr = "8*7-6+5";
    int acc = expr[0] - '0';
    for (const char *p = expr + 1; *p; p += 2)
        acc = lookup(p[0])(acc, p[1] - '0');
    printf("%s = %d (left to right)\n", expr, acc);
    printf("lookup('%%') is %s\n", lookup('%') ? "set" : "NULL");
    int xs[] = {1, 2, 3, 4};
    apply_all(xs, 4, square);
    apply_all(xs, 4, negate);
    int (*pick)(int) = strlen(expr) > 3 ? square : negate;
    printf("picked %s: %d\n", pick == square ? "square" : "negate", pick(9));
    return 0;
}
