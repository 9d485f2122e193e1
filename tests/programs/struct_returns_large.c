/* large structs and unions returned and passed by value (memory class) */
#include <stdio.h>
struct big { int v[10]; char name[13]; };
union u { long l; double d; char bytes[24]; };
static struct big make(int base)
{
    struct big b;
    for (int i = 0; i < 10; i++) b.v[i] = base + i;
    snprintf(b.name, sizeof b.name, "big-%d", base);
    return b;
}
static int sum(struct big b) { int s = 0; for (int i = 0; i < 10; i++) s += b.v[i]; return s; }
static union u make_u(long l) { union u x = {0}; x.l = l; x.bytes[20] = 'z'; return x; }
int main(void)
{
    struct big b = make(100);
    union u x = make_u(12345);
    printf("%s %d %zu\n", b.name, sum(b), sizeof b);
    printf("%ld %c %zu\n", x.l, x.bytes[20], sizeof x);
    return 0;
}
