// Returning addresses: a local's, a static's, a heap block's, a parameter's.
//// escape
#include <stdlib.h>
struct pair { int *first; int n; };
int *local_address(void) {
    int x = 1;
    return &x;                                  // expect: x escapes to caller
}
int *static_address(void) {
    static int counter;
    return &counter;                            // expect: counter escapes to caller
}
int *heap_block(void) {
    int *p = malloc(sizeof *p);                 // expect: malloc escapes to caller
    if (p) *p = 3;
    return p;
}
int *local_array(void) {
    int a[4] = {0};
    return a;                                   // expect: a escapes to caller
}
int *through_variable(void) {
    int y = 2;
    int *q = &y;
    return q;                                   // expect: y escapes to caller
}
struct pair through_struct(void) {
    int z = 5;
    struct pair r = { &z, 1 };
    return r;                                   // expect: z escapes to caller
}
int *identity(int *p) {
    return p;                                   // expect: p escapes to caller
}
int *pointer_arithmetic(int *base, int i) {
    return base + i;                            // expect: base escapes to caller
}
int value_only(void) {
    int v = 7;
    int *pv = &v;                               // expect: v does not escape
    return *pv;
}
int *element_address(void) {
    int arr[4] = {0};
    return &arr[2];                             // expect: arr escapes to caller
}
int *via_statement_expression(void) {
    int se = 1;
    int *p = ({ &se; });
    return p;                                   // expect: se escapes to caller
}
long via_union(void) {
    int u = 1;
    union { int *p; long n; } un;
    un.p = &u;
    return un.n;                                // expect: u may escape
}
int **moved_by_realloc(void) {
    int x = 1;
    int **l = malloc(sizeof *l);                // expect: malloc does not escape
    if (!l) return 0;
    l[0] = &x;
    int **m = realloc(l, 2 * sizeof *l);        // expect: realloc escapes to caller
    if (!m) { free(l); return 0; }
    return m;                                   // expect: x escapes to caller
}
int *overwritten_before_return(void) {
    int ov = 1;
    int *p = &ov;                               // expect: ov does not escape
    *p = 2;
    p = malloc(sizeof *p);                      // expect: malloc escapes to caller
    return p;
}
int *returned_on_one_path(int c) {
    int op = 1;
    int *p = malloc(sizeof *p);                 // expect: malloc leaks
    if (c) return p;
    p = &op;
    return p;                                   // expect: op escapes to caller
}
int *backward_goto_stays_cautious(int n) {
    int bg = 1;
    int *p = 0;
again:
    if (n-- > 0) return p;                      // expect: bg escapes to caller
    p = &bg;
    goto again;
}
int *assigned_on_some_paths_only(int c) {
    int sp = 1;
    int *p = &sp;
    c && (p = 0);
    return p;                                   // expect: sp escapes to caller
}
#include <setjmp.h>
jmp_buf back;
int *after_longjmp(void) {
    int lj = 1;
    int *p = 0;
    if (setjmp(back)) return p;                 // expect: lj escapes to caller
    p = &lj;
    longjmp(back, 1);
}
