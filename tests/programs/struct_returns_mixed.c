/* structs of floats, doubles and mixtures: the register classes */
#include <stdio.h>
struct ff { float x, y; };
struct dd { double x, y; };
struct di { double d; int i; };
struct fi { float f; int i; };
struct fff { float a, b, c; };
static struct ff mk_ff(float x) { return (struct ff){ x, x * 2 }; }
static struct dd mk_dd(double x) { return (struct dd){ x, x / 2 }; }
static struct di mk_di(double d, int i) { return (struct di){ d, i }; }
static struct fi mk_fi(float f, int i) { return (struct fi){ f, i }; }
static struct fff mk_fff(void) { return (struct fff){ 1.5f, 2.5f, 3.5f }; }
int main(void)
{
    struct ff a = mk_ff(1.25f);
    struct dd b = mk_dd(9);
    struct di c = mk_di(0.5, 7);
    struct fi d = mk_fi(2.75f, -3);
    struct fff e = mk_fff();
    printf("%.2f %.2f | %.1f %.1f | %.1f %d | %.2f %d | %.1f %.1f %.1f\n",
           a.x, a.y, b.x, b.y, c.d, c.i, d.f, d.i, e.a, e.b, e.c);
    return 0;
}
