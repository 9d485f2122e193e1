// Pointer parameters: kept, returned, stored, or only looked at.
//// setup
struct list { struct list *next; int v; };
struct list *head;
//// escape
int length(const struct list *l) {              // expect: l does not escape
    int n = 0;
    for (; l; l = l->next) n++;
    return n;
}
struct list *second(struct list *l) {
    return l->next;                             // expect: l escapes to caller
}
void push(struct list *item) {
    item->next = head;
    head = item;                                // expect: item escapes to global
}
void leak_next(struct list *l) {
    head = l->next;                             // expect: l escapes to global
}
int *pick(int *a, int *b, int first) {
    return first ? a : b;                       // expect: a escapes to caller; b escapes to caller
}
void copy_into(int *dst, const int *src, int n) {   // expect: dst does not escape; src does not escape
    for (int i = 0; i < n; i++) dst[i] = src[i];
}
long as_integer(int *p) {
    return (long)p;                             // expect: p may escape
}
