/* Unions: a tagged union of shapes, and looking at a float's bits. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

enum kind { CIRCLE, RECT, TRIANGLE };

struct shape {
    enum kind kind;
    union {
        struct { double r; } circle;
        struct { double w, h; } rect;
        struct { double a, b, c; } tri;
    } u;
};

double perimeter(const struct shape *s)
{
    switch (s->kind) {
    case CIRCLE: return 2 * 3.14159265358979 * s->u.circle.r;
    case RECT: return 2 * (s->u.rect.w + s->u.rect.h);
    case TRIANGLE: return s->u.tri.a + s->u.tri.b + s->u.tri.c;
    }
    return -1;
}

union bits {
    float f;
    uint32_t u;
    unsigned char bytes[4];
};

int main(void)
{
    struct shape shapes[] = {
        {CIRCLE, .u.circle = {1.0}},
        {RECT, .u.rect = {2.0, 3.5}},
        {TRIANGLE, .u.tri = {3, 4, 5}},
    };
    for (int i = 0; i < 3; i++)
        printf("shape %d perimeter %.3f\n", i, perimeter(&shapes[i]));

    union bits b;
    b.f = 1.0f;
    printf("1.0f = 0x%08x\n", b.u);
    b.f = -2.5f;
    printf("-2.5f = 0x%08x sign %u exponent %u\n", b.u, b.u >> 31, (b.u >> 23) & 0xff);
    b.u = 0x40490fdb;
    printf("0x40490fdb = %.5f\n", b.f);
    b.u = 0x01020304;
    printf("little endian: %s\n", b.bytes[0] == 4 ? "yes" : "no");
    printf("sizeof(union bits) = %zu\n", sizeof(union bits));
    return 0;
}
