/* a macro that declares a struct type and its functions */
#include <stdio.h>
#define VECTOR(T) \
    typedef struct { T x, y; } vec_##T; \
    static vec_##T add_##T(vec_##T a, vec_##T b) { vec_##T r = { a.x + b.x, a.y + b.y }; return r; }
VECTOR(int)
VECTOR(double)
int main(void)
{
    vec_int a = {1, 2}, b = {3, 4};
    vec_double c = {0.5, 1.5}, d = {2, 2};
    vec_int s = add_int(a, b);
    vec_double t = add_double(c, d);
    printf("%d %d %.1f %.1f\n", s.x, s.y, t.x, t.y);
    return 0;
}
