/* A growable array with malloc/realloc, doubling its capacity. */
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int *data;
    size_t len, cap;
    int grows;
} vec;

void vec_push(vec *v, int x)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 1;
        int *p = realloc(v->data, cap * sizeof *p);
        if (!p) {
            perror("realloc");
            exit(1);
        }
        v->data = p;
        v->cap = cap;
        v->grows++;
        printf("grew to %zu\n", cap);
    }
    v->data[v->len++] = x;
}

int vec_pop(vec *v) { return v->data[--v->len]; }

void vec_shrink(vec *v)
{
    v->data = realloc(v->data, v->len * sizeof *v->data);
    v->cap = v->len;
}

int main(void)
{
    vec v = {0};
    for (int i = 0; i < 20; i++)
        vec_push(&v, i * i);
    printf("len %zu cap %zu grows %d\n", v.len, v.cap, v.grows);
    long sum = 0;
    for (size_t i = 0; i < v.len; i++)
        sum += v.data[i];
    printf("sum of squares 0..19 = %ld\n", sum);
    int last = vec_pop(&v);
    int before = vec_pop(&v);
    printf("popped %d then %d\n", last, before);
    vec_shrink(&v);
    printf("after shrink: len %zu cap %zu last %d\n", v.len, v.cap, v.data[v.len - 1]);
    char *s = NULL;
    size_t n = 0;
    for (char c = 'a'; c <= 'z'; c += 5) {
        s = realloc(s, n + 2);
        s[n++] = c;
        s[n] = '\0';
    }
    printf("%s\n", s);
    free(s);
    free(v.data);
    return 0;
}
