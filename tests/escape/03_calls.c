// Passing addresses down: to a reader, to a keeper, to what cannot be seen.
//// setup
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
int *kept;
int reader(const int *p) { return *p; }
void keeper(int *p) { kept = p; }
void unseen(int *p);
//// escape
int pass_to_reader(void) {
    int a = 1;
    return reader(&a);                          // expect: a does not escape
}
void pass_to_keeper(void) {
    int b = 2;
    keeper(&b);                                 // expect: b escapes to global
}
void pass_to_unseen(void) {
    int c = 3;
    unseen(&c);                                 // expect: c may escape
}
size_t pass_to_libc(void) {
    char s[8] = "abc";
    return strlen(s);                           // expect: s does not escape
}
void each(int *xs, int n, void (*cb)(void *ctx, int x), void *ctx) {    // expect: xs does not escape
    for (int i = 0; i < n; i++) cb(ctx, xs[i]); // expect: ctx may escape
}
static void add_to(void *ctx, int x) { *(int *)ctx += x; }   // expect: ctx does not escape
int callback_context(void) {
    int xs[3] = {1, 2, 3};
    int sum = 0;
    each(xs, 3, add_to, &sum);                  // expect: xs does not escape; sum may escape
    return sum;
}
static void *work(void *arg) { return arg; }    // expect: arg escapes to caller
void thread_stack_address(void) {
    int shared = 0;
    pthread_t t;
    pthread_create(&t, 0, work, &shared);       // expect: shared may escape; t does not escape
    pthread_join(t, 0);
}
int through_fn_pointer(int (*f)(int *)) {
    int d = 4;
    return f(&d);                               // expect: d may escape
}
void copied_by_memcpy(void) {
    int m = 6;
    int *pm = &m;
    memcpy(&kept, &pm, sizeof pm);              // expect: m escapes to global; pm does not escape
}
int sum_all(int n, ...) {
    va_list ap;
    va_start(ap, n);                            // expect: ap does not escape
    int s = 0;
    for (int i = 0; i < n; i++) s += *va_arg(ap, int *);
    va_end(ap);
    return s;
}
int pass_variadic(void) {
    int q = 1;
    return sum_all(1, &q);                      // expect: q may escape
}
