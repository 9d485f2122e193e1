/* printf formatting: widths, precision, signs, padding, a table, and
 * 16.16 fixed-point arithmetic. */
#include <stdio.h>
#include <stdint.h>

typedef int32_t fix16;
#define FIX_ONE (1 << 16)

fix16 fix_from_double(double d) { return (fix16)(d * FIX_ONE + (d >= 0 ? 0.5 : -0.5)); }
double fix_to_double(fix16 f) { return (double)f / FIX_ONE; }
fix16 fix_mul(fix16 a, fix16 b) { return (fix16)(((int64_t)a * b) >> 16); }
fix16 fix_div(fix16 a, fix16 b) { return (fix16)(((int64_t)a << 16) / b); }

int main(void)
{
    printf("%-10s|%10s|\n", "Celsius", "Fahrenheit");
    for (int c = -40; c <= 100; c += 35)
        printf("%-10d|%10.1f|\n", c, c * 9.0 / 5 + 32);
    printf("[%8.3f] [%-8.2f] [%+d] [%05d] [%x] [%#o] [%e]\n", 3.14159, 2.5, 7, 42, 255, 8, 12345.678);
    printf("[%.0f] [%.0f] [%g] [%g] [%5.1f%%]\n", 0.5, 1.5, 0.0001, 1e-5, 99.44);
    printf("[%*d] [%-*d] [%.*s]\n", 6, 42, 6, 42, 3, "abcdef");

    fix16 a = fix_from_double(3.25), b = fix_from_double(-1.5);
    printf("a = 0x%08x (%.4f)\n", (unsigned)a, fix_to_double(a));
    printf("a * b = %.4f\n", fix_to_double(fix_mul(a, b)));
    printf("a / b = %.4f\n", fix_to_double(fix_div(a, b)));
    fix16 acc = 0;
    for (int i = 0; i < 10; i++)
        acc += fix_from_double(0.1);
    printf("ten times 0.1 = %.6f\n", fix_to_double(acc));
    return 0;
}
