// Storing addresses: into a global, a heap object's field, an out-parameter.
//// setup
#include <stdlib.h>
struct node { int *data; struct node *next; };
int *last_seen;
//// escape
void to_global(void) {
    int x = 0;
    last_seen = &x;                             // expect: x escapes to global
}
void into_heap_struct(void) {
    int y = 1;
    struct node *n = malloc(sizeof *n);         // expect: malloc leaks
    if (!n) return;
    n->data = &y;                               // expect: y escapes to heap
}
void out_param(int **out) {                     // expect: out does not escape
    int z = 2;
    *out = &z;                                  // expect: z escapes through parameter
}
void into_local_struct(void) {
    int w = 3;
    struct node local = { &w, 0 };              // expect: w does not escape
    local.next = 0;
}
void param_to_global(int *p) {
    last_seen = p;                              // expect: p escapes to global
}
void param_to_out(int *p, int **out) {          // expect: out does not escape
    *out = p;                                   // expect: p escapes through parameter
}
void static_keeper(void) {
    static int *kept;
    int k = 4;
    kept = &k;                                  // expect: k escapes to global
}
void field_of_param(struct node *n) {           // expect: n does not escape
    int local = 5;
    n->data = &local;                           // expect: local escapes through parameter
}
void stored_after_reassignment(int *q) {
    int sr = 1;
    int *p = &sr;                               // expect: sr does not escape
    *p = 2;
    p = q;
    last_seen = p;                              // expect: q escapes to global
}
void stored_on_some_paths(int c) {
    int sp = 1;
    int *p = 0;
    if (c) p = &sp;
    last_seen = p;                              // expect: sp escapes to global
}
