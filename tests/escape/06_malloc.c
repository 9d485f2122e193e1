// Allocations: freed on every path, on some, returned, stored.
//// setup
#include <stdlib.h>
#include <string.h>
char *cache;
struct box { char *label; };
//// escape
int freed_everywhere(void) {
    int *a = malloc(64);                        // expect: malloc does not escape
    if (!a) return -1;
    a[0] = 1;
    int r = a[0];
    free(a);
    return r;
}
int freed_on_some_paths(int n) {
    int *b = malloc(n * sizeof *b);             // expect: malloc leaks
    if (!b) return -1;
    if (n > 10) return 0;
    free(b);
    return 1;
}
char *returned(const char *s) {                 // expect: s does not escape
    char *c = malloc(strlen(s) + 1);            // expect: malloc escapes to caller
    if (c) strcpy(c, s);
    return c;
}
void stored_in_global(void) {
    cache = malloc(32);                         // expect: malloc escapes to global
}
void stored_through_out(char **out) {           // expect: out does not escape
    *out = calloc(4, 8);                        // expect: calloc escapes through parameter
}
void stored_in_box(struct box *b) {             // expect: b does not escape
    b->label = strdup("x");                     // expect: strdup escapes through parameter
}
struct box *boxed(void) {
    struct box *b = malloc(sizeof *b);          // expect: malloc escapes to caller
    if (b) b->label = strdup("y");              // expect: strdup escapes to caller
    return b;
}
struct box *boxed_and_lost(void) {
    struct box *b = malloc(sizeof *b);          // expect: malloc escapes to caller
    char *t = strdup("z");                      // expect: strdup leaks
    if (b) b->label = "z";
    return t ? b : b;
}
int never_freed(void) {
    int *d = calloc(8, sizeof *d);              // expect: calloc leaks
    return d ? d[0] : 0;
}
int goto_cleanup(int n) {
    int rc = -1;
    char *e = malloc(128);                      // expect: malloc does not escape
    if (!e) goto out;
    if (n < 0) goto done;
    e[0] = 0;
    rc = 0;
done:
    free(e);
out:
    return rc;
}
int in_a_loop(int n) {
    int s = 0;
    for (int i = 0; i < n; i++) {
        int *f = malloc(sizeof *f);             // expect: malloc does not escape
        if (!f) break;
        *f = i;
        s += *f;
        free(f);
    }
    return s;
}
int grown(int n) {
    int *g = malloc(16);                        // expect: malloc does not escape
    int *h = realloc(g, n);                     // expect: realloc does not escape
    if (!h) { free(g); return -1; }
    free(h);
    return 0;
}
int exits_on_failure(void) {
    char *k = malloc(10);                       // expect: malloc does not escape
    if (!k) exit(1);
    k[0] = 'a';
    free(k);
    return 0;
}
int endless_loop_left_by_return(int n) {
    char *m = malloc(8);                        // expect: malloc does not escape
    if (!m) return -1;
    for (;;) {
        if (n-- <= 0) { free(m); return 0; }
        m[0] = (char)n;
    }
}
int while_one(int n) {
    char *w = malloc(8);                        // expect: malloc leaks
    while (1) {
        if (n-- <= 0) break;
        if (n == 5) return 5;
    }
    free(w);
    return 0;
}
void overwritten_before_free(void) {
    char *p = malloc(10);                       // expect: malloc leaks
    p = malloc(20);                             // expect: malloc does not escape
    free(p);
}
int either_branch(int c) {
    char *q = c ? malloc(4) : malloc(8);        // expect: malloc does not escape; malloc does not escape
    if (!q) return -1;
    free(q);
    return 0;
}
int assigned_in_the_test(int n) {
    int *t;
    if ((t = malloc(n * sizeof *t)) == NULL)    // expect: malloc does not escape
        return -1;
    t[0] = n;
    n = t[0];
    free(t);
    return n;
}
int goto_inside_a_loop(int n) {
    int s = 0;
    for (int i = 0; i < n; i++) {
        int *v = malloc(sizeof *v);             // expect: malloc does not escape
        if (!v) goto next;
        *v = i;
        s += *v;
        free(v);
    next:
        s++;
    }
    return s;
}
int goto_backwards(int n) {
    char *b = malloc(4);                        // expect: malloc does not escape
again:
    if (n-- > 0) goto again;
    free(b);
    return n;
}
