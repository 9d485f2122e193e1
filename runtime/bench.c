/* bench.c - Go-style benchmarks, claims and keeping work alive.
 *
 * A benchmark body loops b->n times. Like Go's testing package, the
 * runner first grows n (1, 2, 3, 5, 10, 20, ...; predicted from the last
 * run) until one run takes a tenth of the benchmark time, then times five
 * runs of a fifth each and reports their median, the median deviation,
 * and the heap traffic per operation (from alloc.c's counters, so exact). The
 * results of the cell's benchmarks are kept for nb_bench_chart until the
 * next cell begins.
 *
 * Owns: the one running benchmark (benchmarks do not nest) and the list of
 * the cell's results. */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nb.h"
#include "rt.h"

#define ROUNDS 5
#define MAX_RESULTS 64

static double bench_seconds = 0.1;
static nb_result last, results[MAX_RESULTS];
static int nresults;

static struct {
    nb_b b;
    char name[128];
    int growing;                /* still looking for n */
    int round;
    double ns[ROUNDS], cpu[ROUNDS], bytes[ROUNDS], allocs[ROUNDS];
    int counting;               /* %measure verbose: perf counters over the timed runs */
    rt_counter_set counters;
} cur;

long long nb_now_ns(void) { return (long long)rt_now_ns(); }

double nb_bench_time(double seconds) {
    double old = bench_seconds;
    if (seconds > 0) bench_seconds = seconds;
    return old;
}

nb_result nb_bench_last(void) { return last; }

const nb_result *rt_bench_list(int *n) {
    *n = nresults;
    return results;
}

void rt_bench_cell_begin(void) {
    rt_inside_begin();
    for (int i = 0; i < nresults; i++) free((char *)results[i].name);
    rt_inside_end();
    nresults = 0;
}

/* ------------------------------------------------------------- timing */

static void heap_now(unsigned long long *allocs, unsigned long long *bytes) {
    rt_alloc_totals t;
    rt_alloc_totals_get(&t, 0);
    *allocs = t.allocs;
    *bytes = t.alloc_bytes;
}

/* CPU time of this thread: what other processes on a busy machine take
 * is not in it, so claims compare it (nb_result.cpu_ns_per_op). */
static long long thread_cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void nb_start_timer(nb_b *b) {
    if (b->running_) return;
    heap_now(&b->a0_, &b->bytes0_);
    b->running_ = 1;
    b->cpu0_ = thread_cpu_ns();
    b->t0_ = nb_now_ns();
}

void nb_stop_timer(nb_b *b) {
    if (!b->running_) return;
    long long t = nb_now_ns();
    b->cpu_elapsed_ += thread_cpu_ns() - b->cpu0_;
    unsigned long long a, by;
    heap_now(&a, &by);
    b->elapsed_ += t - b->t0_;
    b->allocs_ += a - b->a0_;
    b->bytes_ += by - b->bytes0_;
    b->running_ = 0;
}

void nb_reset_timer(nb_b *b) {
    b->elapsed_ = b->cpu_elapsed_ = 0;
    b->allocs_ = b->bytes_ = 0;
    if (b->running_) {
        heap_now(&b->a0_, &b->bytes0_);
        b->cpu0_ = thread_cpu_ns();
        b->t0_ = nb_now_ns();
    }
}

/* 1, 2, 3, 5 times a power of ten, at least N (Go's roundUp). */
static long round_up(long n) {
    long p = 1;
    while (p * 10 <= n) p *= 10;
    if (n <= p) return p;
    if (n <= 2 * p) return 2 * p;
    if (n <= 3 * p) return 3 * p;
    if (n <= 5 * p) return 5 * p;
    return 10 * p;
}

/* The next n while growing: Go's predictN, aiming 20% past GOAL ns a run
 * after a run of N operations took NS ns, growing at most 100x. */
static long predict_n(long n, double ns, double goal) {
    double per = ns > 0 ? ns / (double)n : 1;
    double want = goal * 1.2 / per;
    long next = want > 1e9 ? 1000000000L : (long)want;
    if (next > n * 100) next = n * 100;
    if (next <= n) next = n + 1;
    return round_up(next);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double s[ROUNDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void fmt_ns_op(char *out, size_t n, double v) {
    if (v < 10) snprintf(out, n, "%.2f", v);
    else if (v < 100) snprintf(out, n, "%.1f", v);
    else snprintf(out, n, "%.0f", v);
}

/* %measure verbose: the perf counters of the timed runs, per operation. */
static void counters_per_op(double ops) {
    nb_counters c;
    rt_counters_close(&cur.counters, &c);
    cur.counting = 0;
    if (!c.measured) return;
    printf("    per op: task clock %.1f ns \xc2\xb7 %.3g context switches \xc2\xb7 %.3g page faults",
           (double)c.task_clock_ns / ops, (double)c.context_switches / ops, (double)c.page_faults / ops);
    if (c.hardware)
        printf(" \xc2\xb7 %.1f cycles \xc2\xb7 %.1f instructions \xc2\xb7 %.3g cache misses \xc2\xb7 %.3g branch misses",
               (double)c.cycles / ops, (double)c.instructions / ops, (double)c.cache_misses / ops,
               (double)c.branch_misses / ops);
    printf("\n");
}

static void finish(void) {
    nb_result r;
    memset(&r, 0, sizeof r);
    r.n = cur.b.n;
    r.runs = ROUNDS;
    r.ns_per_op = median(cur.ns, ROUNDS);
    r.cpu_ns_per_op = median(cur.cpu, ROUNDS);
    r.bytes_per_op = median(cur.bytes, ROUNDS);
    r.allocs_per_op = median(cur.allocs, ROUNDS);
    r.min_ns_per_op = r.max_ns_per_op = cur.ns[0];
    double dev[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        if (cur.ns[i] < r.min_ns_per_op) r.min_ns_per_op = cur.ns[i];
        if (cur.ns[i] > r.max_ns_per_op) r.max_ns_per_op = cur.ns[i];
        dev[i] = fabs(cur.ns[i] - r.ns_per_op);
    }
    /* the median absolute deviation: one run disturbed by the machine
     * does not make the whole figure look unreliable */
    r.spread = r.ns_per_op > 0 ? median(dev, ROUNDS) / r.ns_per_op : 0;
    rt_inside_begin();
    if (nresults < MAX_RESULTS) {
        r.name = strdup(cur.name);
        results[nresults++] = r;
    }
    r.name = cur.name;
    last = r;
    char ns[32], bytes[32], allocs[32];
    fmt_ns_op(ns, sizeof ns, r.ns_per_op);
    snprintf(bytes, sizeof bytes, "%.0f", r.bytes_per_op);
    snprintf(allocs, sizeof allocs, r.allocs_per_op == floor(r.allocs_per_op) ? "%.0f" : "%.2f", r.allocs_per_op);
    printf("Benchmark%s\t%10ld\t%10s ns/op\t%8s B/op\t%6s allocs/op\t\xc2\xb1%.*f%%\n",
           cur.name, r.n, ns, bytes, allocs, r.spread < 0.1 ? 1 : 0, r.spread * 100);
    if (cur.counting) counters_per_op((double)r.n * ROUNDS);
    fflush(stdout);
    rt_inside_end();
}

/* ------------------------------------------------------------- runner */

RT_BODY nb_b *bench_begin(const char *name, void *ctx) {
    memset(&cur, 0, sizeof cur);
    const char *s = name ? name : "";
    if (strncmp(s, "Benchmark", 9) == 0) s += 9;
    snprintf(cur.name, sizeof cur.name, "%s", *s ? s : "Unnamed");
    if (cur.name[0] >= 'a' && cur.name[0] <= 'z') cur.name[0] = (char)(cur.name[0] - 'a' + 'A');
    cur.b.ctx = ctx;
    cur.growing = 1;
    return &cur.b;
}

/* Called before each run: ends the run that just happened (if any),
 * decides on the next, and returns 0 when the benchmark is done. */
RT_BODY int bench_next(nb_b *b) {
    double goal = bench_seconds * 1e9 / ROUNDS;
    if (b->n > 0) {                            /* a run just ended */
        nb_stop_timer(b);
        double ns = (double)b->elapsed_;
        if (cur.growing) {
            if (ns >= goal / 2 || b->n >= 1000000000L) {
                /* n found: the timed runs take the goal each */
                double per = ns > 0 ? ns / (double)b->n : 1;
                double want = goal / per;
                cur.growing = 0;
                if (rt_counters_wanted()) {
                    rt_counters_open(&cur.counters);
                    cur.counting = 1;
                }
                if (b->n < 1000000000L) b->n = want < 1 ? 1 : want > 1e9 ? 1000000000L : (long)want;
            } else {
                b->n = predict_n(b->n, ns, goal);
            }
        } else {
            cur.ns[cur.round] = ns / (double)b->n;
            cur.cpu[cur.round] = (double)b->cpu_elapsed_ / (double)b->n;
            cur.bytes[cur.round] = (double)b->bytes_ / (double)b->n;
            cur.allocs[cur.round] = (double)b->allocs_ / (double)b->n;
            if (++cur.round == ROUNDS) {
                finish();
                return 0;
            }
        }
    } else {
        b->n = 1;
    }
    b->elapsed_ = b->cpu_elapsed_ = 0;
    b->allocs_ = b->bytes_ = 0;
    b->running_ = 0;
    nb_start_timer(b);
    return 1;
}

/* The runner's own frames (snprintf, printf, the heap counters) are not
 * the cell's stack use: each entry is bracketed (stack.c). */
nb_b *nb__bench_begin(const char *name, void *ctx) {
    RT_STACK_ENTER();
    nb_b *b = bench_begin(name, ctx);
    RT_STACK_LEAVE();
    return b;
}

int nb__bench_next(nb_b *b) {
    RT_STACK_ENTER();
    int more = bench_next(b);
    RT_STACK_LEAVE();
    return more;
}

nb_result nb_bench_ctx(const char *name, void (*fn)(nb_b *b), void *ctx) {
    nb_b *b = nb__bench_begin(name, ctx);
    if (fn)
        while (nb__bench_next(b)) fn(b);
    return last;
}

nb_result nb_bench(const char *name, void (*fn)(nb_b *b)) { return nb_bench_ctx(name, fn, NULL); }

/* ------------------------------------------------- benchmarks in turns */

/* One run of N operations of C's function, as bench_next times one. */
static void case_run(const nb_bench_case *c, long n, int round) {
    nb_b b;
    memset(&b, 0, sizeof b);
    b.n = n;
    b.ctx = c->ctx;
    nb_start_timer(&b);
    c->fn(&b);
    nb_stop_timer(&b);
    cur.ns[round] = (double)b.elapsed_ / (double)n;
    cur.cpu[round] = (double)b.cpu_elapsed_ / (double)n;
    cur.bytes[round] = (double)b.bytes_ / (double)n;
    cur.allocs[round] = (double)b.allocs_ / (double)n;
}

/* Operations per run so that a run of C takes GOAL ns, found as bench_next finds it. */
static long case_calibrate(const nb_bench_case *c, double goal) {
    for (long n = 1;; ) {
        case_run(c, n, 0);
        double ns = cur.ns[0] * (double)n;
        if (ns >= goal / 2 || n >= 1000000000L) {
            double want = goal / (cur.ns[0] > 0 ? cur.ns[0] : 1);
            return want < 1 ? 1 : want > 1e9 ? 1000000000L : (long)want;
        }
        n = predict_n(n, ns, goal);
    }
}

/* Report a case's runs (in FIG) as nb_bench reports a benchmark. */
RT_BODY void case_report(nb_bench_case *c, long n, double fig[4][ROUNDS]) {
    bench_begin(c->name, c->ctx);
    cur.b.n = n;
    memcpy(cur.ns, fig[0], sizeof cur.ns);
    memcpy(cur.cpu, fig[1], sizeof cur.cpu);
    memcpy(cur.bytes, fig[2], sizeof cur.bytes);
    memcpy(cur.allocs, fig[3], sizeof cur.allocs);
    finish();
    c->result = last;
    c->result.name = c->name;            /* the caller's: cur.name is reused */
}

/* Each case's n is found on its own; then the timed runs go in turns (a
 * run of each, five times, the order rotating), so that whatever the
 * machine does meanwhile weighs on all of them alike. */
void nb_bench_interleaved(nb_bench_case *cases, int ncases) {
    enum { MAX_CASES = 8 };
    static double fig[MAX_CASES][4][ROUNDS];   /* static: not the cell's stack */
    static long n[MAX_CASES];
    double goal = bench_seconds * 1e9 / ROUNDS;
    if (ncases > MAX_CASES) ncases = MAX_CASES;
    for (int k = 0; k < ncases; k++) n[k] = case_calibrate(&cases[k], goal);
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < ncases; i++) {
            int k = (r + i) % ncases;
            case_run(&cases[k], n[k], r);
            fig[k][0][r] = cur.ns[r];
            fig[k][1][r] = cur.cpu[r];
            fig[k][2][r] = cur.bytes[r];
            fig[k][3][r] = cur.allocs[r];
        }
    for (int k = 0; k < ncases; k++) {
        RT_STACK_ENTER();
        case_report(&cases[k], n[k], fig[k]);
        RT_STACK_LEAVE();
    }
}

/* ------------------------------------------------------ the heap's cost */

/* One way to allocate: both are called through pointers, so both loops
 * pay the same for the call. The empty asm keeps a block from being
 * dropped unused at no cost of its own. */
typedef struct {
    unsigned long size;
    void *(*alloc)(unsigned long);
    void (*release)(void *);
} heap_way;

static void heap_loop(nb_b *b) {
    const heap_way *w = b->ctx;
    for (long i = 0; i < b->n; i++) {
        void *p = w->alloc(w->size);
        __asm__ volatile("" : : "r"(p) : "memory");
        w->release(p);
    }
}

/* One timed run of N operations of W: ns, bytes and allocations per op. */
static void heap_run(const heap_way *w, long n, double *ns, double *bytes, double *allocs) {
    nb_b b = { .n = n, .ctx = (void *)w };
    unsigned long long a0, by0, a1, by1;
    heap_now(&a0, &by0);
    long long t0 = nb_now_ns();
    heap_loop(&b);
    long long t1 = nb_now_ns();
    heap_now(&a1, &by1);
    *ns = (double)(t1 - t0) / (double)n;
    *bytes = (double)(by1 - by0) / (double)n;
    *allocs = (double)(a1 - a0) / (double)n;
}

/* Operations per run so that a run takes GOAL ns. */
static long heap_calibrate(const heap_way *w, double goal) {
    double ns, bytes, allocs;
    for (long n = 1000;; n *= 10) {
        heap_run(w, n, &ns, &bytes, &allocs);
        if (ns * (double)n >= goal / 10 || n >= 100000000L) {
            double want = goal / (ns > 0 ? ns : 1);
            return want < 1 ? 1 : want > 1e9 ? 1000000000L : (long)want;
        }
    }
}

/* The figures of runs already timed, reported as nb_bench reports. */
static nb_result heap_report(const char *name, long n, const double *ns, const double *bytes,
                             const double *allocs) {
    nb__bench_begin(name, NULL);
    cur.b.n = n;
    memcpy(cur.ns, ns, sizeof cur.ns);
    memcpy(cur.bytes, bytes, sizeof cur.bytes);
    memcpy(cur.allocs, allocs, sizeof cur.allocs);
    finish();
    return last;
}

/* The two ways' runs interleaved, in turns, so that the machine's load
 * weighs on both alike. */
nb_heap_cost nb_bench_heap(unsigned long size) {
    const heap_way way[2] = { { size, malloc, free }, { size, nb_libc_malloc, nb_libc_free } };
    long n = heap_calibrate(&way[0], bench_seconds * 1e9 / ROUNDS / 2);
    double ns[2][ROUNDS], bytes[2][ROUNDS], allocs[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < 2; k++) {
            int w = (r + k) % 2;
            heap_run(&way[w], n, &ns[w][r], &bytes[w][r], &allocs[w][r]);
        }
    char name[64];
    nb_heap_cost c;
    snprintf(name, sizeof name, "MallocFree%luCounted", size);
    c.counted = heap_report(name, n, ns[0], bytes[0], allocs[0]);
    snprintf(name, sizeof name, "MallocFree%luGlibc", size);
    c.glibc = heap_report(name, n, ns[1], bytes[1], allocs[1]);
    return c;
}

/* ------------------------------------------------------- claims, keep */

/* The failed claim, for the worker's crash report (nb_internal.h). */
static char check_message[512];

const char *nb_internal_check_failure(void) { return check_message[0] ? check_message : NULL; }

void nb__check_failed(const char *cond, int line, const char *fmt, ...) {
    fflush(stdout);
    char claim[300] = "";
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(claim, sizeof claim, fmt, ap);
        va_end(ap);
        snprintf(check_message, sizeof check_message, "%s (%s does not hold, line %d)", claim, cond, line);
    } else {
        snprintf(check_message, sizeof check_message, "%s does not hold (line %d)", cond, line);
    }
    fprintf(stderr, "nb_check failed: %s\n", check_message);
    fflush(stderr);
    abort();
}

static volatile unsigned char keep_sink;

void nb__keep(const void *p, unsigned long n) {
    const unsigned char *c = p;
    if (n) keep_sink ^= c[0] ^ c[n - 1];
}
