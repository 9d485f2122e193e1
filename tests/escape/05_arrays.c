// Arrays that decay, compound literals, VLAs and alloca.
//// setup
#include <alloca.h>
#include <string.h>
int *saved;
struct point { int x, y; };
int total(const int *xs, int n) { int s = 0; for (int i = 0; i < n; i++) s += xs[i]; return s; }
//// escape
int decays_to_reader(void) {
    int xs[4] = {1, 2, 3, 4};
    return total(xs, 4);                        // expect: xs does not escape
}
void decays_to_global(void) {
    int ys[2];
    saved = ys;                                 // expect: ys escapes to global
}
int subscript_only(void) {
    int zs[3] = {0};
    zs[1] = 2;
    return zs[1];
}
int *literal_returned(void) {
    return (int[]){1, 2, 3};                    // expect: (int[]) escapes to caller
}
int literal_read(void) {
    int *p = (int[]){4, 5};                     // expect: (int[]) does not escape
    return p[1];
}
int *struct_literal(void) {
    struct point *s = &(struct point){1, 2};
    return &s->y;                               // expect: (struct point) escapes to caller
}
int vla_read(int n) {
    int v[n];
    memset(v, 0, sizeof v);                     // expect: v does not escape
    return v[0];
}
int *vla_returned(int n) {
    int w[n];
    w[0] = n;
    return w;                                   // expect: w escapes to caller
}
int *alloca_returned(int n) {
    int *a = alloca(n * sizeof *a);
    return a;                                   // expect: alloca escapes to caller
}
int alloca_read(void) {
    char *b = alloca(16);                       // expect: alloca does not escape
    b[0] = 1;
    return b[0];
}
