// An earlier cell's functions: what they do with a pointer is remembered.
//// setup
#include <stdlib.h>
int **registry;
void remember(int *p) { static int *slot; slot = p; }
int first(const int *p) { return p[0]; }
int *pass_back(int *p) { return p; }
void register_it(int *p) { registry[0] = p; }
void free_it(int *p) { free(p); }
//// setup
int twice(const int *p) { return 2 * first(p); }
//// escape
void uses_remember(void) {
    int a = 1;
    remember(&a);                               // expect: a escapes to global
}
int uses_first(void) {
    int b = 2;
    return first(&b);                           // expect: b does not escape
}
int *uses_pass_back(void) {
    int c = 3;
    return pass_back(&c);                       // expect: c escapes to caller
}
void uses_register(void) {
    int d = 4;
    register_it(&d);                            // expect: d escapes to global
}
int uses_twice(void) {
    int e = 5;
    return twice(&e);                           // expect: e does not escape
}
int *wraps(int *q) {
    return pass_back(q);                        // expect: q escapes to caller
}
int handed_to_free_it(void) {
    int *f = malloc(sizeof *f);                 // expect: malloc does not escape
    if (!f) return -1;
    *f = 1;
    int v = *f;
    free_it(f);
    return v;
}
//// setup
struct link { struct link *next; int *data; };
struct link global_link;
void attach_deep(struct link *l, int *v) { l->next->data = v; }
void attach(struct link *l, int *v) { l->data = v; }
//// escape
void deep_store_reaches_the_global(void) {
    int g = 7;
    struct link local = { &global_link, 0 };
    attach_deep(&local, &g);                    // expect: g escapes to global; local does not escape
}
void shallow_store_stays_local(void) {
    int h = 8;
    struct link local = { &global_link, 0 };
    attach(&local, &h);                         // expect: h does not escape; local does not escape
}
