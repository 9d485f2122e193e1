/* structs returned by value: 1, 2, 4, 8, 12 and 16 bytes */
#include <stdio.h>
struct s1 { char a; };
struct s2 { short a; };
struct s4 { char a, b, c, d; };
struct s8 { int a, b; };
struct s12 { int a, b, c; };
struct s16 { long a, b; };
static struct s1 f1(void) { return (struct s1){ 1 }; }
static struct s2 f2(void) { return (struct s2){ 2 }; }
static struct s4 f4(void) { return (struct s4){ 1, 2, 3, 4 }; }
static struct s8 f8(void) { return (struct s8){ 5, 6 }; }
static struct s12 f12(void) { return (struct s12){ 7, 8, 9 }; }
static struct s16 f16(void) { return (struct s16){ 10, 11 }; }
int main(void)
{
    struct s4 d = f4();
    struct s12 t = f12();
    printf("%d %d %d%d%d%d %d %d %d%d%d %ld %ld\n", f1().a, f2().a, d.a, d.b, d.c, d.d,
           f8().a, f8().b, t.a, t.b, t.c, f16().a, f16().b);
    return 0;
}
