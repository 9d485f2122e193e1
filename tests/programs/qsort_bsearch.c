/* qsort and bsearch with comparison functions */
#include <stdio.h>
#include <stdlib.h>
static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
int main(void)
{
    int v[] = { 42, 7, 19, 3, 88, 23 };
    size_t n = sizeof v / sizeof v[0];
    qsort(v, n, sizeof v[0], cmp_int);
    for (size_t i = 0; i < n; i++) printf("%d ", v[i]);
    printf("\n");
    int key = 19;
    int *hit = bsearch(&key, v, n, sizeof v[0], cmp_int);
    printf("19 at %td\n", hit ? hit - v : -1);
    return 0;
}
