/* designated initializers, nested structs and arrays of them */
#include <stdio.h>
struct point { int x, y; };
struct rect { struct point min, max; const char *label; };
static const struct rect rects[] = {
    { .min = { 0, 0 }, .max = { 2, 3 }, .label = "a" },
    { .label = "b", .max.x = 5, .max.y = 1 },
    [3] = { { 1, 1 }, { 4, 4 }, "d" },
};
static int area(struct rect r) { return (r.max.x - r.min.x) * (r.max.y - r.min.y); }
int main(void)
{
    for (unsigned i = 0; i < sizeof rects / sizeof rects[0]; i++)
        printf("%u %s %d\n", i, rects[i].label ? rects[i].label : "(none)", area(rects[i]));
    return 0;
}
