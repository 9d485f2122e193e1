/* Word frequencies with a chained hash table (djb2), strdup and a final
 * sort of the entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#define BUCKETS 64

struct entry {
    char *word;
    int count;
    struct entry *next;
};

static struct entry *table[BUCKETS];
static int distinct;

unsigned long djb2(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

void add_word(const char *w)
{
    unsigned long b = djb2(w) % BUCKETS;
    for (struct entry *e = table[b]; e; e = e->next)
        if (strcmp(e->word, w) == 0) {
            e->count++;
            return;
        }
    struct entry *e = malloc(sizeof *e);
    e->word = strdup(w);
    e->count = 1;
    e->next = table[b];
    table[b] = e;
    distinct++;
}

int by_count(const void *a, const void *b)
{
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
    if (x->count != y->count)
        return y->count - x->count;
    return strcmp(x->word, y->word);
}

int main(void)
{
    const char *text =
        "It was the best of times, it was the worst of times, it was the age of "
        "wisdom, it was the age of foolishness...";
    char word[32];
    int len = 0;
    for (const char *p = text;; p++) {
        if (isalpha((unsigned char)*p)) {
            if (len < 31)
                word[len++] = tolower((unsigned char)*p);
        } else {
            if (len) {
                word[len] = '\0';
                add_word(word);
                len = 0;
            }
            if (!*p)
                break;
        }
    }
    struct entry **all = malloc(distinct * sizeof *all);
    int n = 0;
    for (int b = 0; b < BUCKETS; b++)
        for (struct entry *e = table[b]; e; e = e->next)
            all[n++] = e;
    qsort(all, n, sizeof *all, by_count);
    printf("%d distinct words\n", distinct);
    for (int i = 0; i < n; i++)
        printf("%-12s %d\n", all[i]->word, all[i]->count);
    for (int i = 0; i < n; i++) {
        free(all[i]->word);
        free(all[i]);
    }
    free(all);
    return 0;
}
