/* compound literals as arguments and lvalues */
#include <stdio.h>
struct pair { int a, b; };
static int sum(const int *v, int n) { int s = 0; while (n--) s += *v++; return s; }
static int dot(struct pair p, struct pair q) { return p.a * q.a + p.b * q.b; }
int main(void)
{
    printf("%d\n", sum((int[]){ 1, 2, 3, 4 }, 4));
    printf("%d\n", dot((struct pair){ 1, 2 }, (struct pair){ 3, 4 }));
    int *p = (int[3]){ 0 };
    p[2] = 9;
    printf("%d %d %d\n", p[0], p[1], p[2]);
    return 0;
}
