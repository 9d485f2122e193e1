/* goto for cleanup on error paths */
#include <stdio.h>
#include <stdlib.h>
static int work(int fail_at)
{
    int rc = -1;
    char *a = malloc(10), *b = NULL;
    if (!a || fail_at == 1) goto out;
    b = malloc(20);
    if (!b || fail_at == 2) goto free_a;
    rc = 0;
    free(b);
free_a:
    free(a);
    a = NULL;
out:
    free(a);
    return rc;
}
int main(void)
{
    for (int i = 0; i < 3; i++) printf("fail_at %d -> %d\n", i, work(i));
    return 0;
}
