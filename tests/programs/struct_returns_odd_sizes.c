/* structs of 3, 5, 7 and 24 bytes, and unions of floats, returned by value */
#include <stdio.h>
struct s3 { char c[3]; };
struct s5 { char c[5]; };
struct s7 { short s[3]; char c; };
struct s24 { double d; long l; int i; };
union uf { float f; double d; };
static struct s3 m3(void) { return (struct s3){ { 'a', 'b', 'c' } }; }
static struct s5 m5(void) { return (struct s5){ "wxyz" }; }
static struct s7 m7(void) { return (struct s7){ { 1, 2, 3 }, 'q' }; }
static struct s24 m24(void) { return (struct s24){ 1.5, -2, 3 }; }
static union uf muf(double d) { union uf u; u.d = d; return u; }
int main(void)
{
    struct s3 a = m3();
    struct s5 b = m5();
    struct s7 c = m7();
    struct s24 d = m24();
    printf("%.3s %s %d%d%d%c %.1f %ld %d %.2f\n", a.c, b.c, c.s[0], c.s[1], c.s[2], c.c,
           d.d, d.l, d.i, muf(2.25).d);
    printf("%zu %zu %zu %zu\n", sizeof a, sizeof b, sizeof c, sizeof d);
    return 0;
}
