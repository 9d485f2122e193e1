/* A reverse Polish calculator with an array stack and strtol. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#define STACK_MAX 32

static long stack[STACK_MAX];
static int sp;

int push(long v)
{
    if (sp == STACK_MAX)
        return 0;
    stack[sp++] = v;
    return 1;
}

int pop(long *v)
{
    if (sp == 0)
        return 0;
    *v = stack[--sp];
    return 1;
}

int eval(const char *expr, long *result)
{
    sp = 0;
    const char *p = expr;
    while (*p) {
        if (isspace((unsigned char)*p)) {
            p++;
            continue;
        }
        char *end;
        long v = strtol(p, &end, 10);
        if (end != p && (isdigit((unsigned char)*p) || isdigit((unsigned char)p[1]))) {
            push(v);
            p = end;
            continue;
        }
        long a, b;
        if (!pop(&b) || !pop(&a))
            return 0;
        switch (*p++) {
        case '+': push(a + b); break;
        case '-': push(a - b); break;
        case '*': push(a * b); break;
        case '/': if (b == 0) return 0; push(a / b); break;
        case '%': if (b == 0) return 0; push(a % b); break;
        default: return 0;
        }
    }
    return pop(result) && sp == 0;
}

int main(void)
{
    const char *exprs[] = {
        "3 4 +", "5 1 2 + 4 * + 3 -", "2 3 4 * +", "-7 2 /", "-7 2 %", "1 +", "4 0 /", "1 2", "100 -3 *",
    };
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        long r;
        if (eval(exprs[i], &r))
            printf("%-20s = %ld\n", exprs[i], r);
        else
            printf("%-20s : error\n", exprs[i]);
    }
    return 0;
}
