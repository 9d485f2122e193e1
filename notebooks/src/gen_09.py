#!/usr/bin/python3
"""Write notebooks/09-profiling-a-program.ipynb, unexecuted.

Run from anywhere:  /usr/bin/python3 notebooks/src/gen_09.py
The capstone: a word-frequency counter of a couple of hundred lines,
written in the notebook, slow for reasons a learner can find. Each step
profiles it, changes one thing (by defining a function again: the kernel
replaces it everywhere) and measures again; each speed-up is checked on
the CPU time of the fastest of several runs, and the output must stay the
same.
"""
import re

from nbgen import ALLOC_MACROS, MEASURE_INTRO, PROBES, c, md, shows, write

# Functions shown twice: as the fixes define them, then compiled by gcc -O2
# in section 8 under names ending in _gcc (one text, so "the same source" holds).
HASH_WORD = r"""unsigned hash_word(const char *w) {             /* FNV-1a */
    unsigned h = 2166136261u;
    for (; *w; w++) h = (h ^ (unsigned char)*w) * 16777619u;
    return h;
}
"""

FIND_OR_ADD = r"""entry *find_or_add(const char *w) {
    unsigned s = hash_word(w) & (SLOTS - 1);
    for (; slot_of[s]; s = (s + 1) & (SLOTS - 1))
        if (strcmp(entries[slot_of[s] - 1].word, w) == 0) return &entries[slot_of[s] - 1];
    if (nentries == capacity) {
        capacity = capacity ? 2 * capacity : 64;
        entries = realloc(entries, capacity * sizeof *entries);
    }
    entries[nentries] = (entry){ NULL, 0 };
    slot_of[s] = nentries + 1;
    return &entries[nentries++];
}
"""

COUNT_V4 = r"""void count_token(const char *w) {
    entry *e = find_or_add(w);
    if (e->word == NULL) e->word = strdup(w);   /* only a new word is copied */
    e->count++;
}

long count_words(const char *text) {
    table_reset();
    long words = 0;
    char token[64];
    while (next_word(&text, token, sizeof token)) {
        count_token(token);
        words++;
    }
    sort_entries();
    return words;
}
"""

NEXT_WORD = r"""/* The next word of the text at *AT, lower-cased into BUF of CAP bytes; 0 at the end of the text. */
int next_word(const char **at, char *buf, size_t cap) {
    const char *p = *at;
    while (*p && !isalpha((unsigned char)*p)) p++;
    size_t len = 0;
    for (; isalpha((unsigned char)*p); p++)
        if (len + 1 < cap) buf[len++] = tolower((unsigned char)*p);
    buf[len] = 0;
    *at = p;
    return len > 0;
}
"""

# The loop over the words of the last version, for gcc, its functions renamed.
GCC_SOURCE = re.sub(r"\b(next_word|hash_word|find_or_add|count_token|count_words)\b", r"\1_gcc",
                    NEXT_WORD + "\n" + HASH_WORD + "\n" + FIND_OR_ADD + "\n" + COUNT_V4)


# ---------------------------------------------------------------- intro

md(r"""
# Profiling a program: a word counter, made fast one step at a time

The notebooks so far measured small pieces. This one takes a whole
program, a word-frequency counter of the kind everyone writes once, and
makes it fast the way it is done in practice: **measure, find where the
time goes, change one thing, measure again**. No guessing: every change is
chosen by what the profile showed, and every speed-up is measured and
checked.

The program is written as a learner would write it first: it works, and
it is slow for three ordinary reasons. The point is to find them from the
measurements, not from reading the code (though you may spot them).

""" + MEASURE_INTRO)

c(r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

""" + PROBES + "\n" + ALLOC_MACROS)

# ----------------------------------------------------------- the input

md(r"""
## 1. The input: a generated text

A real text would need a file; a generated one is the same on every
machine. It is made of 100,000 words drawn from 8000 invented ones, and, as in real text
(Zipf's law), a few words are very frequent and most are rare: the word
of rank *r* comes up about 1/*r* as often as the most frequent one.
Sentences start with a capital letter and end with a full stop; commas and
line breaks fall in between.
""")

c(r"""
enum { VOCAB = 8000, TEXT_WORDS = 100000 };
char vocabulary[VOCAB][24];
double zipf_cumulative[VOCAB];              /* P(rank <= r), for drawing words */
unsigned long long rng_state = 2026;

unsigned next_random(void) {                /* a linear congruential generator: same text everywhere */
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rng_state >> 33);
}

void make_vocabulary(void) {
    static const char *syllables[] = { "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ber", "dan",
                                       "el", "fin", "gor", "hal", "is", "jun", "ost", "qua", "wex", "yl" };
    double total = 0;
    for (int w = 0; w < VOCAB; w++) {
        int parts = 1 + w % 4;              /* frequent words are short, as in real text */
        vocabulary[w][0] = 0;
        for (int s = 0; s < parts; s++) strcat(vocabulary[w], syllables[next_random() % 20]);
        total += 1.0 / (w + 1);
        zipf_cumulative[w] = total;
    }
    for (int w = 0; w < VOCAB; w++) zipf_cumulative[w] /= total;
}

int draw_word(void) {                       /* a rank, drawn by Zipf's law (binary search) */
    double u = next_random() / 2147483648.0;
    int lo = 0, hi = VOCAB - 1;
    while (lo < hi) { int mid = (lo + hi) / 2; if (zipf_cumulative[mid] < u) lo = mid + 1; else hi = mid; }
    return lo;
}

/* TEXT_WORDS words in sentences of 4 to 15 words, lines of about 70 characters. */
char *make_text(void) {
    char *text = malloc(TEXT_WORDS * 24), *p = text;
    int in_sentence = 0, line = 0;
    for (int i = 0; i < TEXT_WORDS; i++) {
        const char *w = vocabulary[draw_word()];
        int n = strlen(w);
        memcpy(p, w, n);
        if (in_sentence == 0) *p = toupper(*p);
        p += n;
        line += n + 1;
        if (++in_sentence >= 4 + (int)(next_random() % 12)) { *p++ = '.'; in_sentence = 0; }
        else if (next_random() % 9 == 0) *p++ = ',';
        *p++ = line > 70 ? '\n' : ' ';
        if (line > 70) line = 0;
    }
    *p = 0;
    return text;
}
""")

c(r"""
make_vocabulary();
char *text = make_text();
printf("%zu bytes of text; it begins:\n\n%.300s...\n", strlen(text), text);
""")

# --------------------------------------------------------- the program

md(r"""
## 2. The program

It reads the text a word at a time, lower-cases each word, and keeps a
table of the words it has seen with their counts. At the end it sorts the
table, most frequent first, and reports the top words. `count_words` is
the whole program; `show_top` prints its answer.
""")

c(r"""
typedef struct { char *word; long count; } entry;

entry *entries;                 /* the table: every distinct word with its count */
long nentries, capacity;

void table_reset(void) {
    for (long i = 0; i < nentries; i++) free(entries[i].word);
    nentries = 0;
}

/* The entry for word W, added with a count of 0 (and no word yet) if it is new. */
entry *find_or_add(const char *w) {
    for (long i = 0; i < nentries; i++)
        if (strcmp(entries[i].word, w) == 0) return &entries[i];
    if (nentries == capacity) {
        capacity = capacity ? 2 * capacity : 64;
        entries = realloc(entries, capacity * sizeof *entries);
    }
    entries[nentries] = (entry){ NULL, 0 };
    return &entries[nentries++];
}

/* A lower-case copy of the word TOKEN. */
char *lower_case(const char *token) {
    size_t n = strlen(token);
    char *w = malloc(n + 1);
    for (size_t i = 0; i <= n; i++) w[i] = tolower((unsigned char)token[i]);
    return w;
}

void count_token(const char *token) {
    char *w = lower_case(token);
    entry *e = find_or_add(w);
    if (e->word == NULL) e->word = w;           /* a new word: the table keeps the copy */
    else free(w);
    e->count++;
}

/* Most frequent first; equal counts in alphabetical order. */
int comes_before(const entry *a, const entry *b) {
    if (a->count != b->count) return a->count > b->count;
    return strcmp(a->word, b->word) < 0;
}

void sort_entries(void) {                       /* selection sort */
    for (long i = 0; i < nentries; i++) {
        long best = i;
        for (long j = i + 1; j < nentries; j++)
            if (comes_before(&entries[j], &entries[best])) best = j;
        entry t = entries[i]; entries[i] = entries[best]; entries[best] = t;
    }
}

/* The next word of the text at *AT, as a string of its own (NULL at the end of the text). */
char *next_word(const char **at) {
    const char *p = *at;
    while (*p && !isalpha((unsigned char)*p)) p++;
    char *word = NULL;
    size_t len = 0;
    while (isalpha((unsigned char)*p)) {
        word = realloc(word, len + 2);          /* room for one more letter and the NUL */
        word[len++] = *p++;
        word[len] = 0;
    }
    *at = p;
    return word;
}

/* Count the words of TEXT into the table, sorted; return how many words it read. */
long count_words(const char *text) {
    table_reset();
    long words = 0;
    for (char *token; (token = next_word(&text)); free(token)) {
        count_token(token);
        words++;
    }
    sort_entries();
    return words;
}

/* A fingerprint of the whole answer (every word, count and place), to check each version. */
unsigned long long answer_digest(void) {
    unsigned long long h = 1469598103934665603ULL;
    for (long i = 0; i < nentries; i++) {
        for (const char *c = entries[i].word; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        h = (h ^ (unsigned long long)entries[i].count) * 1099511628211ULL;
    }
    return h;
}

void show_top(int k) {
    nb_table *t = nb_table_new("rank|word|count");
    for (int i = 0; i < k && i < nentries; i++)
        nb_table_row(t, "%d|%s|%ld", i + 1, entries[i].word, entries[i].count);
    nb_table_show(t);
}
""")

md(r"""
It runs, and its answer is what the text was made of: the most frequent
word is the invented word of rank 1, and so on.
""")

c(r"""
long words_read = count_words(text);
printf("%ld words, %ld distinct\n", words_read, nentries);
show_top(8);
unsigned long long right_answer = answer_digest();
nb_check_eq(words_read, TEXT_WORDS, "every word of the text was read");
nb_check(strcmp(entries[0].word, vocabulary[0]) == 0, "the most frequent word is the one of rank 1");
""")

md(r"""
## 3. How fast is it?

The cell below runs the whole program again and again, for at least a
second of CPU time and at least five times, and keeps the CPU time of the
fastest run: what the version costs when nothing else gets in its way (on
a busy machine, another program can slow a run down, never speed it up).
Each version's figure is kept in `version_ms`, for the chart at the end.
""")

c(r"""
enum { MAX_VERSIONS = 8 };
double version_ms[MAX_VERSIONS];
const char *version_name[MAX_VERSIONS];
int nversions;

/* Time the program as it is now (ms of CPU time, its fastest run); check its answer. */
double measure_version(const char *name) {
    double fastest = 1e18;
    int runs = 0;
    for (long long start = cpu_ns(); runs < 5 || cpu_ns() - start < 1000000000LL; runs++) {
        long long t0 = cpu_ns();
        count_words(text);
        fastest = fmin(fastest, (cpu_ns() - t0) / 1e6);
    }
    unsigned long long allocs = ALLOCS_OF(count_words(text));
    nb_check_eq(answer_digest(), right_answer, "the answer is the same as the first version's");
    version_name[nversions] = name;
    version_ms[nversions++] = fastest;
    printf("%s: %.2f ms of CPU time (the fastest of %d runs), %llu allocations a run\n",
           name, fastest, runs, allocs);
    return fastest;
}
""")

c(r"""
double v1 = measure_version("v1: as written");
""")

# ----------------------------------------------------- 4. first profile

md(r"""
## 4. Where does the time go?

A **profiler** answers that. It interrupts the program about a thousand
times a second of CPU time and notes which functions were running
(the stack, innermost first). A function that is on the stack in 80% of
the samples took about 80% of the time, itself or through what it called.
""")

md(r"""
A cell that starts with `%%profile` is profiled while it runs. Under its
output come a **flame graph** (each bar a function, as wide as its share of
the samples, standing on the function that called it), the functions
that took the time, and the cell's lines with their share. Inside it,
`nb_profile_start` and `nb_profile_stop` profile a region from code, which
lets the cell check what the picture shows:
""")

c(r"""
%%profile
nb_profile_start();
for (int i = 0; i < 3; i++) count_words(text);
nb_profile p1 = nb_profile_stop();
printf("%ld samples; share of the samples with each function on the stack:\n", p1.samples);
printf("  find_or_add %.0f%%, sort_entries %.0f%%, next_word %.0f%%\n",
       100 * nb_profile_share(&p1, "find_or_add"), 100 * nb_profile_share(&p1, "sort_entries"),
       100 * nb_profile_share(&p1, "next_word"));
nb_check_gt(nb_profile_share(&p1, "find_or_add"), 0.5, "looking words up takes most of the time");
""")
shows("libc.so.6 internals", "if (strcmp(entries[i].word, w) == 0) return &entries[i];")

md(r"""
Above `count_words` stands `count_token`, then `find_or_add`, and on top
of that most of the width is library code: `strcmp`, which glibc does not
export under that name (it picks a version for the processor), so the
profile calls it `libc.so.6 internals`. The lines say it plainly: the line
of `find_or_add` that calls `strcmp` holds most of the samples. The
program spends its time comparing words.
""")

# ------------------------------------------------------- fix 1: hashing

md(r"""
## 5. Fix 1: a hash table

`find_or_add` compares the word with every word seen so far until it
finds it: the more distinct words, the longer each lookup. A **hash
table** goes straight to the right place: a hash function turns the word
into a number, and the number picks a slot. Here, `slot_of` holds, for each
slot, the index of the entry plus one (0: empty); a slot taken by another
word sends the search to the next one (open addressing). The entries stay
as they were; only the lookup changes, so only these functions are defined
again. The kernel replaces them everywhere: `count_token`, which calls
`find_or_add`, now calls the new one.
""")

c(r"""
enum { SLOTS = 1 << 14 };                       /* a power of two, over four times the words */
int slot_of[SLOTS];

""" + HASH_WORD + r"""
void table_reset(void) {
    for (long i = 0; i < nentries; i++) free(entries[i].word);
    nentries = 0;
    memset(slot_of, 0, sizeof slot_of);
}

""" + FIND_OR_ADD)

c(r"""
double v2 = measure_version("v2: hash table");
nb_check_gt(SLOTS, 4 * nentries, "the table has over four slots a word");
nb_check_gt(v1, 2 * v2, "the hash table makes the program faster");
""")

# ------------------------------------------------------- fix 2: sorting

md(r"""
Faster, and the same answer. Now profile again: with the lookups cheap,
something else takes the largest share. (`%%profile` shows the figures of
the whole cell, `nb_profile_stop` those of its loop: nearly the same.)
""")

c(r"""
%%profile
nb_profile_start();
for (int i = 0; i < 10; i++) count_words(text);
nb_profile p2 = nb_profile_stop();
double sort_share = nb_profile_share(&p2, "sort_entries");
printf("%ld samples: sort_entries %.0f%%, find_or_add %.0f%%, next_word %.0f%%, count_token %.0f%%\n",
       p2.samples, 100 * sort_share, 100 * nb_profile_share(&p2, "find_or_add"),
       100 * nb_profile_share(&p2, "next_word"), 100 * nb_profile_share(&p2, "count_token"));
nb_check_gt(sort_share, nb_profile_share(&p2, "count_token"), "now the sort takes the largest share");
nb_check_gt(sort_share, nb_profile_share(&p2, "next_word"));
double n = nentries, log2_n = 0;
for (double m = n; m > 1; m /= 2) log2_n++;
printf("%ld distinct words: a selection sort makes %.0f comparisons, a merge sort about %.0f\n",
       nentries, n * (n - 1) / 2, n * log2_n);
""")

md(r"""
## 6. Fix 2: a better sort

The widest bar is now `sort_entries`, with `comes_before` on top of it.
A selection sort compares every entry with every later one: for *n*
distinct words, *n*(*n* − 1)/2 comparisons (the cell above printed how
many that is here). `qsort` (a merge sort in glibc) needs about
*n* log₂ *n*. Its comparison function returns a negative number, zero or
a positive one, so `comes_before` gets a wrapper.
""")

c(r"""
int by_frequency(const void *a, const void *b) {
    return comes_before(a, b) ? -1 : comes_before(b, a) ? 1 : 0;
}

void sort_entries(void) { qsort(entries, nentries, sizeof *entries, by_frequency); }
""")

c(r"""
double v3 = measure_version("v3: qsort");
nb_check_gt(v2, 1.25 * v3, "qsort makes the program faster again");
""")

# ---------------------------------------------------- fix 3: allocation

md(r"""
## 7. Fix 3: allocation churn

And profile again. `nb_profile`'s table of functions also says which
were running when a sample was taken (`self`): the cell adds up those that
are the allocator's (`malloc`, `realloc`, `free` and the kernel's counting
allocator around them).
""")

c(r"""
%%profile
nb_profile_start();
for (int i = 0; i < 20; i++) count_words(text);
nb_profile p3 = nb_profile_stop();
long in_allocator = 0;
for (int i = 0; i < p3.nfunctions; i++) {
    const char *f = p3.functions[i].name;
    if (strstr(f, "alloc") || strstr(f, "free") || strstr(f, "the kernel's runtime"))
        in_allocator += p3.functions[i].self;
}
double allocator_share = (double)in_allocator / p3.samples;
printf("%ld samples: next_word %.0f%%, count_token %.0f%%, sort_entries %.0f%%; "
       "in the allocator itself %.0f%%\n", p3.samples, 100 * nb_profile_share(&p3, "next_word"),
       100 * nb_profile_share(&p3, "count_token"), 100 * nb_profile_share(&p3, "sort_entries"),
       100 * allocator_share);
nb_check_lt(nb_profile_share(&p3, "sort_entries"), 0.3, "the sort no longer dominates");
nb_check_gt(allocator_share, 0.05, "the allocator's own code takes a share of its own");
""")

md(r"""
No function of the program takes most of the time now, but `next_word`
and `count_token` both spend theirs partly in the allocator.
`%%profile --heap` asks where the program allocates: it charges every
allocation to the call stack that made it, exactly (the counting
allocator sees each one), and draws the flame graph by bytes, with a
table of the sites:
""")

c(r"""
%%profile --heap
count_words(text);
""")
shows("next_word (cell", "lower_case (cell")

md(r"""
Two sites do nearly all of it, both inside the loop over the words:
`next_word` and `lower_case`. The allocator's counters give the exact
figures for one run, and for `next_word`'s loop alone:
""")

c(r"""
long letters = 0;
for (const char *p = text; *p; p++) letters += isalpha((unsigned char)*p) != 0;
unsigned long long allocs_per_run = ALLOCS_OF(count_words(text));
const char *at = text;
unsigned long long by_next_word = ALLOCS_OF({ for (char *w; (w = next_word(&at)); free(w)) ; });
printf("one run: %llu allocations for %d words (%.1f a word)\n",
       allocs_per_run, TEXT_WORDS, (double)allocs_per_run / TEXT_WORDS);
printf("next_word alone: %llu, for the %ld letters of the text\n", by_next_word, letters);
nb_check_eq(by_next_word, letters, "next_word makes one allocation per letter");
nb_check_ge(allocs_per_run, letters + TEXT_WORDS, "and lower_case one more per word");
""")

md(r"""
Several allocations for every word, each freed a moment later:
`next_word` grows its string with a `realloc` for each letter, and
`count_token` makes a lower-case copy that it frees again unless the word
is new. Yet a word is short, and the program looks at one word at a time:
one buffer on the stack holds it. The fix reads each word, lower-cased,
into a buffer the caller provides (a word longer than the buffer, which
this text does not have, is cut; a real program would say so), and copies
it to the heap only when it is new.
""")

c(r"""
""" + NEXT_WORD + "\n" + COUNT_V4 + r"""""")

c(r"""
double v4 = measure_version("v4: no copy per word");
unsigned long long allocs_now = ALLOCS_OF(count_words(text));
printf("one run now: %llu allocations (%ld distinct words)\n", allocs_now, nentries);
nb_check_le(allocs_now, nentries + 1, "one allocation per distinct word");
nb_check_gt(v3, 1.5 * v4, "fewer allocations, less time");
size_t longest = 0;
for (int w = 0; w < VOCAB; w++) if (strlen(vocabulary[w]) > longest) longest = strlen(vocabulary[w]);
nb_check_lt(longest, 64, "no word of the text was cut by the 64-byte buffer");
""")

# ------------------------------------------------------- 8. gcc -O2

md(r"""
## 8. The same source, compiled by gcc -O2

Every cell so far was compiled by tcc, which compiles in a blink and
optimises little. A cell that starts with `%%cc gcc -O2` is compiled by
gcc with its optimiser instead. Here is the program's loop over the words,
the same source as the last version, with `_gcc` after each function's
name so that both versions stay in the session (the table and the sort
stay tcc's):
""")

c(r"""
%%cc gcc -O2
""" + GCC_SOURCE)

md(r"""
Both versions now run in turns, fifteen times each, so that both meet the
same machine, and the cell compares the fastest run of each, as before:
""")

c(r"""
enum { TURNS = 15 };
double tcc_fastest = 1e18, gcc_fastest = 1e18;
for (int k = 0; k < TURNS; k++) {
    long long t0 = cpu_ns();
    count_words(text);
    long long t1 = cpu_ns();
    count_words_gcc(text);
    tcc_fastest = fmin(tcc_fastest, (t1 - t0) / 1e6);
    gcc_fastest = fmin(gcc_fastest, (cpu_ns() - t1) / 1e6);
}
nb_check_eq(answer_digest(), right_answer, "gcc's version gives the same answer");
version_name[nversions] = "v5: v4 by gcc -O2";
version_ms[nversions++] = gcc_fastest;
printf("fastest run's CPU time: tcc's %.2f ms, gcc -O2's %.2f ms\n", tcc_fastest, gcc_fastest);
nb_check_gt(tcc_fastest, 1.2 * gcc_fastest, "the same source runs faster compiled by gcc -O2");
""")

md(r"""
gcc keeps the loops' variables in registers and inlines the small
functions into their callers, where tcc keeps every variable in memory and
calls. What stays is the library's code, the same under either compiler:
`strcmp`, `tolower`, `qsort`. The compiler is the last step here, not the
first: no optimiser turns a linear search into a hash table.
""")

# --------------------------------------------------------------- summary

md(r"""
## 9. All the versions

Each version's CPU time per run, as measured after its fix (a
logarithmic scale: each step divides the time):
""")

c(r"""
double version_number[MAX_VERSIONS];
for (int i = 0; i < nversions; i++) version_number[i] = i + 1;
nb_line_chart(&(nb_chart){
    .title = "The word counter, version by version", .x_label = "version",
    .y_label = "CPU time per run", .y_unit = "ms", .n = nversions, .x = version_number,
    .log_y = 1, .series = { {"CPU ms per run", version_ms} } });
nb_table *all = nb_table_new("version|CPU ms per run|faster than v1");
for (int i = 0; i < nversions; i++)
    nb_table_row(all, "%s|%.2f|%.1fx", version_name[i], version_ms[i], version_ms[0] / version_ms[i]);
nb_table_show(all);
nb_check_gt(v1, 5 * v4, "the last version is several times faster than the first");
""")

md(r"""
## Summary

| step | what the measurement showed | the fix | checked |
| --- | --- | --- | --- |
| 1 | `%%profile`: most samples in `find_or_add`, comparing words | a hash table | faster, same answer |
| 2 | `%%profile`: the largest share in `sort_entries` | `qsort` | faster, same answer |
| 3 | `%%profile`: the time spread out, the allocator in it; `%%profile --heap` and the counts: an allocation per letter and one per word | a buffer from the caller, a copy per new word only | one allocation per distinct word; faster, same answer |
| 4 | the loop over the words, compiled by tcc | the same source by `gcc -O2` (`%%cc`) | faster (in turns with tcc's), same answer |

Measure, find the largest cost, fix that one thing, measure again; stop
when the program is fast enough. Each step here was chosen by a
measurement, and each was checked.

That ends the series. Back to the start:
[00-welcome](00-welcome.ipynb), or the overview of how a C program uses
memory, [01-memory-model-overview](01-memory-model-overview.ipynb).
""")

write("09-profiling-a-program.ipynb")
