/* qsort with comparators: by age, then by name; bsearch on ints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name[16];
    int age;
} person;

int by_age_then_name(const void *a, const void *b)
{
    const person *p = a, *q = b;
    if (p->age != q->age)
        return p->age < q->age ? -1 : 1;
    return strcmp(p->name, q->name);
}

int by_name_desc(const void *a, const void *b)
{
    return strcmp(((const person *)b)->name, ((const person *)a)->name);
}

int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void show(const person *ps, int n)
{
    for (int i = 0; i < n; i++)
        printf("%-6s %2d\n", ps[i].name, ps[i].age);
}

int main(void)
{
    person people[] = {
        {"Carol", 35}, {"alice", 30}, {"Bob", 25}, {"Dave", 30}, {"Eve", 25},
    };
    int n = sizeof people / sizeof people[0];
    qsort(people, n, sizeof people[0], by_age_then_name);
    show(people, n);
    printf("--\n");
    qsort(people, n, sizeof people[0], by_name_desc);
    show(people, n);

    int xs[] = {42, -7, 19, 0, 3, 3, 100, -50};
    int m = sizeof xs / sizeof xs[0];
    qsort(xs, m, sizeof xs[0], cmp_int);
    for (int i = 0; i < m; i++)
        printf("%d%c", xs[i], i + 1 < m ? ' ' : '\n');
    int key = 19;
    int *hit = bsearch(&key, xs, m, sizeof xs[0], cmp_int);
    printf("19 at index %d\n", hit ? (int)(hit - xs) : -1);
    key = 20;
    printf("20 %s\n", bsearch(&key, xs, m, sizeof xs[0], cmp_int) ? "found" : "not found");
    return 0;
}
