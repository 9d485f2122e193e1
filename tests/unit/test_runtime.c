/* test_runtime.c - the runtime (the files in runtime/): heap accounting, stack
 * measurement, address classification, pictures and displays.
 *
 * The test binary links the runtime as the worker does, so its malloc is
 * the counted one. Allocation calls go through volatile function pointers:
 * the compiler may otherwise remove a malloc/free pair. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include "nb.h"
#include "nb_internal.h"
#include "rt.h"

static void *(*volatile m_alloc)(size_t) = malloc;
static void (*volatile m_free)(void *) = free;
static void *(*volatile m_calloc)(size_t, size_t) = calloc;
static void *(*volatile m_realloc)(void *, size_t) = realloc;
static char *(*volatile m_strdup)(const char *) = strdup;

/* ------------------------------------------------------------ accounting */

static void test_free_malloc_100(void **state) {
    (void)state;
    nb_measure m;
    nb_internal_cell_begin();
    for (int i = 0; i < 100; i++) m_free(m_alloc(32));
    nb_internal_cell_end(&m);
    assert_int_equal(m.allocs, 100);
    assert_int_equal(m.alloc_bytes, 3200);
    assert_int_equal(m.frees, 100);
    assert_int_equal(m.freed_bytes, 3200);
    assert_int_equal(m.live_delta_bytes, 0);
    assert_int_equal(m.peak_live_bytes, 32);
    assert_int_equal(m.hist[5], 100);          /* (16, 32] */
}

static void test_family(void **state) {
    (void)state;
    nb_measure m;
    nb_internal_cell_begin();
    char *a = m_calloc(4, 8);                  /* 1 alloc, 32 B */
    a = m_realloc(a, 64);                      /* 1 alloc 64 B, 1 free 32 B */
    char *s = m_strdup("hello");               /* 1 alloc, 6 B */
    void *al = NULL;
    assert_int_equal(posix_memalign(&al, 64, 100), 0);   /* 1 alloc, 100 B */
    void *aa = aligned_alloc(128, 256);        /* 1 alloc, 256 B */
    void *r0 = m_realloc(NULL, 10);            /* as malloc: 1 alloc, 10 B */
    nb_internal_cell_end(&m);
    assert_int_equal(m.allocs, 6);
    assert_int_equal(m.reallocs, 1);
    assert_int_equal(m.alloc_bytes, 32 + 64 + 6 + 100 + 256 + 10);
    assert_int_equal(m.frees, 1);
    assert_int_equal(m.live_delta_bytes, 64 + 6 + 100 + 256 + 10);
    assert_int_equal((uintptr_t)al % 64, 0);
    assert_int_equal((uintptr_t)aa % 128, 0);

    nb_internal_cell_begin();
    m_free(a);
    m_free(s);
    m_free(al);
    m_free(aa);
    m_realloc(r0, 0);                          /* frees */
    m_free(NULL);                              /* not a free */
    nb_internal_cell_end(&m);
    assert_int_equal(m.allocs, 0);
    assert_int_equal(m.frees, 5);
    assert_int_equal(m.live_delta_bytes, -(64 + 6 + 100 + 256 + 10));
    assert_int_equal(m.peak_live_bytes, 0);
    assert_int_equal(posix_memalign(&al, 3, 8), EINVAL);
}

/* A freed small block is kept and handed out again (the block cache,
 * while the process has one thread): every count stays exact, the freed
 * block is still known as freed, and a reused block is a new allocation. */
static void test_block_cache(void **state) {
    (void)state;
    nb_measure m;
    nb_internal_cell_begin();
    char *p = m_alloc(40);
    m_free(p);
    rt_block b;
    assert_int_equal(rt_alloc_find(p, &b), 2);          /* freed */
    char *q = m_alloc(33);                              /* the same 48-byte class */
    assert_ptr_equal(q, p);
    assert_int_equal(rt_alloc_find(q, &b), 1);
    assert_int_equal(b.size, 33);
    assert_int_equal(malloc_usable_size(q), 33);
    char *z = m_calloc(1, 40);                          /* calloc never reuses: zeroed by glibc */
    for (int i = 0; i < 40; i++) assert_int_equal(z[i], 0);
    for (int i = 0; i < 20; i++) m_free(m_alloc(16));   /* more than the cache keeps of a class */
    void *many[20];
    for (int i = 0; i < 20; i++) many[i] = m_alloc(100);
    for (int i = 0; i < 20; i++) m_free(many[i]);
    m_free(q);
    m_free(z);
    nb_internal_cell_end(&m);
    assert_int_equal(m.allocs, 1 + 1 + 1 + 20 + 20);
    assert_int_equal(m.frees, 1 + 20 + 20 + 1 + 1);
    assert_int_equal(m.alloc_bytes, 40 + 33 + 40 + 20 * 16 + 20 * 100);
    assert_int_equal(m.live_delta_bytes, 0);
}

/* Leaks: a block in a global and one reached from it are not; a lost
 * block and an unreachable cycle are, once. */
void *volatile leak_root;                              /* volatile: the stores stay */

static void test_leak_scan(void **state) {
    (void)state;
    nb_measure m;
    nb_internal_cell_begin();
    void **kept = m_alloc(16);
    kept[0] = m_alloc(24);                              /* reached through KEPT */
    leak_root = kept;
    void **a = m_alloc(32), **b = m_alloc(32);
    a[0] = b;
    b[0] = a;                                           /* a cycle, lost below */
    uintptr_t hide = (uintptr_t)m_alloc(40) ^ 1;        /* lost: no pointer to it stays */
    a = b = NULL;
    nb_internal_cell_end(&m);
    nb_leak found[8];
    uint64_t bytes;
    long n = nb_internal_leak_scan(NULL, 0, NULL, 0, found, 8, &bytes);
    assert_int_equal(n, 3);
    assert_int_equal(bytes, 32 + 32 + 40);
    for (long i = 0; i < n; i++) assert_ptr_not_equal(found[i].site, NULL);
    assert_int_equal(nb_internal_leak_scan(NULL, 0, NULL, 0, found, 8, &bytes), 0);   /* once */
    leak_root = NULL;                                   /* now KEPT and its block are lost */
    assert_int_equal(nb_internal_leak_scan(NULL, 0, NULL, 0, found, 8, &bytes), 2);
    assert_int_equal(bytes, 16 + 24);
    m_free(kept[0]);
    m_free(kept);
    m_free((void *)(hide ^ 1));
    assert_int_equal(nb_internal_leak_scan(NULL, 0, NULL, 0, found, 8, &bytes), 0);
}

/* fopen allocates inside libc: counted, and fclose frees all of it. */
static void test_libc_internal(void **state) {
    (void)state;
    nb_measure m;
    nb_internal_cell_begin();
    FILE *f = fopen("/proc/self/stat", "r");
    assert_non_null(f);
    char line[64];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    nb_internal_cell_end(&m);
    assert_true(m.allocs >= 1);
    assert_int_equal(m.frees, m.allocs);
    assert_int_equal(m.live_delta_bytes, 0);
    assert_true(m.peak_live_bytes >= 400);     /* a FILE is some 470 bytes */
}

/* The runtime's own blocks count neither when made nor when freed. */
static void test_internal_not_counted(void **state) {
    (void)state;
    nb_measure m;
    nb_internal_cell_begin();
    rt_inside_begin();
    void *p = m_alloc(1000);
    rt_inside_end();
    m_free(p);
    nb_table *t = nb_table_new("a|b");
    nb_table_row(t, "%d|%d", 1, 2);
    nb_internal_set_sink(NULL, NULL);
    nb_table_show(t);                          /* no sink: printed */
    nb_internal_cell_end(&m);
    assert_int_equal(m.allocs, 0);
    assert_int_equal(m.frees, 0);
    assert_int_equal(m.live_delta_bytes, 0);
}

static void *churn(void *arg) {
    (void)arg;
    for (int i = 0; i < 5000; i++) m_free(m_alloc(16 + (size_t)(i % 7)));
    return NULL;
}

static void test_threads_exact(void **state) {
    (void)state;
    nb_measure m;
    pthread_t th[4];
    nb_internal_cell_begin();
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, churn, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    nb_internal_cell_end(&m);
    /* pthread_create may allocate (its thread-local blocks): count ours */
    assert_true(m.allocs >= 20000);
    assert_true(m.frees >= 20000);
    assert_true(m.allocs - 20000 < 16);
    uint64_t want = 0;
    for (int i = 0; i < 5000; i++) want += 16 + (uint64_t)(i % 7);
    assert_true(m.alloc_bytes >= 4 * want);
}

/* ----------------------------------------------------------------- stack */

__attribute__((noinline)) static void deep(void) {
    volatile char buf[65536];
    buf[0] = 1;                                /* the lowest byte */
    buf[sizeof buf - 1] = 1;
}

__attribute__((noinline)) static int shallow(void) {
    volatile char buf[64];
    buf[0] = 1;
    return buf[0];
}

static void test_stack(void **state) {
    (void)state;
    nb_measure m;
    nb_internal_cell_begin();
    deep();
    nb_internal_cell_end(&m);
    assert_true(m.stack_measured);
    assert_true(m.stack_peak_bytes >= 65536);
    assert_true(m.stack_peak_bytes < 65536 + 1024);

    nb_internal_cell_begin();
    shallow();
    nb_internal_cell_end(&m);
    assert_true(m.stack_measured);
    assert_true(m.stack_peak_bytes >= 64);
    assert_true(m.stack_peak_bytes < 1024);

    /* the deep pages were given back: the next deep cell measures again */
    nb_internal_cell_begin();
    deep();
    nb_internal_cell_end(&m);
    assert_true(m.stack_peak_bytes >= 65536 && m.stack_peak_bytes < 65536 + 1024);
}

/* ----------------------------------------------------------------- where */

int runtime_test_global = 42;
const char *runtime_test_literal = "a string literal";

int runtime_test_function(int x) { return x * 2; }

static int fake_symbolizer(void *opaque, const void *addr, char *name, size_t n, int *kind,
                           const void **start, size_t *size) {
    const char *base = opaque;
    if ((const char *)addr < base || (const char *)addr >= base + 64) return 0;
    snprintf(name, n, "counter");
    *kind = NB_SYM_DATA;
    *start = base;
    *size = 64;
    return 1;
}

/* A local of a frame below the one that began the cell, as in a cell. */
__attribute__((noinline)) static nb_place locate_local(void) {
    volatile int local = 1;
    return nb_locate((const void *)&local);
}

static void test_where(void **state) {
    (void)state;
    nb_internal_cell_begin();
    nb_place p = locate_local();
    assert_int_equal(p.region, NB_STACK);
    assert_true(p.offset > 0 && p.offset < 512);
    assert_false(p.dead);

    char *h = m_alloc(48);
    p = nb_locate(h);
    assert_int_equal(p.region, NB_HEAP);
    assert_int_equal(p.size, 48);
    assert_ptr_equal(p.base, h);
    assert_int_equal(p.offset, 0);
    p = nb_locate(h + 10);
    assert_int_equal(p.region, NB_HEAP);
    assert_int_equal(p.offset, 10);
    assert_non_null(strstr(p.text, "48 B"));
    m_free(h);
    p = nb_locate(h + 4);
    if (p.region != NB_HEAP) assert_int_equal(p.region, NB_HEAP_FREED);  /* unless reused */

    p = nb_locate(&runtime_test_global);
    assert_int_equal(p.region, NB_GLOBAL);
    assert_string_equal(p.name, "runtime_test_global");
    p = nb_locate(runtime_test_literal);
    assert_int_equal(p.region, NB_RODATA);
    p = nb_locate((const void *)runtime_test_function);
    assert_int_equal(p.region, NB_CODE);
    assert_string_equal(p.name, "runtime_test_function");
    p = nb_locate((const void *)16);
    assert_int_equal(p.region, NB_UNMAPPED);
    p = nb_locate(NULL);
    assert_int_equal(p.region, NB_UNMAPPED);
    p = nb_locate((const void *)printf);
    assert_int_equal(p.region, NB_CODE);

    void *mm = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p = nb_locate((char *)mm + 100);
    assert_int_equal(p.region, NB_MAPPING);

    nb_internal_set_symbolizer(fake_symbolizer, mm);
    p = nb_locate((char *)mm + 8);
    assert_int_equal(p.region, NB_GLOBAL);
    assert_string_equal(p.name, "counter");
    assert_int_equal(p.offset, 8);
    nb_internal_set_symbolizer(NULL, NULL);
    munmap(mm, 8192);

    nb_measure m;
    nb_internal_cell_end(&m);
}

__attribute__((noinline)) static int *dangling(void) {
    int x = 5;
    int *volatile p = &x;
    return p;
}

static void test_where_dead_frame(void **state) {
    (void)state;
    nb_internal_cell_begin();
    nb_place p = nb_locate(dangling());
    assert_int_equal(p.region, NB_STACK);
    assert_true(p.dead);
    nb_measure m;
    nb_internal_cell_end(&m);
}

/* --------------------------------------------------------- XML checking */

/* A small well-formedness check: balanced, properly nested tags, quoted
 * attributes, known entities, no stray '<' or '&'. Enough for our SVG. */
static int xml_ok(const char *s, char *why, size_t wn) {
    const char *stack[64];
    size_t stack_len[64];
    int depth = 0, roots = 0;
    for (const char *p = s; *p;) {
        if (*p == '&') {
            const char *e = strchr(p, ';');
            if (!e || e - p > 8) { snprintf(why, wn, "bad entity at %.20s", p); return 0; }
            if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) && strncmp(p, "&quot;", 6) &&
                strncmp(p, "&#", 2)) { snprintf(why, wn, "unknown entity %.8s", p); return 0; }
            p = e + 1;
            continue;
        }
        if (*p != '<') { if (*p == '>') { snprintf(why, wn, "stray > at %.20s", p); return 0; } p++; continue; }
        if (depth == 0 && roots) { snprintf(why, wn, "content after the root"); return 0; }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_");
        if (!len) { snprintf(why, wn, "bad tag at %.20s", p); return 0; }
        const char *q = name + len;
        int self = 0;
        while (*q && *q != '>') {
            if (*q == '/' && q[1] == '>') { self = 1; q++; break; }
            if (*q == ' ' || *q == '\n') { q++; continue; }
            size_t an = strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_");
            if (!an || q[an] != '=' || q[an + 1] != '"') { snprintf(why, wn, "bad attribute at %.30s", q); return 0; }
            const char *end = strchr(q + an + 2, '"');
            if (!end) { snprintf(why, wn, "unterminated attribute"); return 0; }
            for (const char *c = q + an + 2; c < end; c++)
                if (*c == '<' || (*c == '&' && strncmp(c, "&amp;", 5) && strncmp(c, "&lt;", 4) && strncmp(c, "&gt;", 4) &&
                                  strncmp(c, "&quot;", 6) && strncmp(c, "&#", 2))) {
                    snprintf(why, wn, "bad character in attribute at %.30s", c);
                    return 0;
                }
            q = end + 1;
        }
        if (*q != '>') { snprintf(why, wn, "unterminated tag"); return 0; }
        if (closing) {
            if (depth == 0 || stack_len[depth - 1] != len || strncmp(stack[depth - 1], name, len)) {
                snprintf(why, wn, "mismatched </%.*s>", (int)len, name);
                return 0;
            }
            depth--;
            if (depth == 0) roots++;
        } else if (!self) {
            if (depth == 64) { snprintf(why, wn, "too deep"); return 0; }
            stack[depth] = name;
            stack_len[depth++] = len;
        } else if (depth == 0) {
            roots++;
        }
        p = q + 1;
    }
    if (depth) { snprintf(why, wn, "unclosed <%.*s>", (int)stack_len[depth - 1], stack[depth - 1]); return 0; }
    if (roots != 1) { snprintf(why, wn, "%d roots", roots); return 0; }
    return 1;
}

static void test_xml_checker(void **state) {
    (void)state;
    char why[128];
    assert_true(xml_ok("<svg a=\"1\"><g><text>a &amp; b</text></g><rect/></svg>", why, sizeof why));
    assert_false(xml_ok("<svg><g></svg>", why, sizeof why));
    assert_false(xml_ok("<svg><text>a & b</text></svg>", why, sizeof why));
    assert_false(xml_ok("<svg a=1></svg>", why, sizeof why));
    assert_false(xml_ok("<svg><text>a < b</text></svg>", why, sizeof why));
}

static void test_memory_map_svg(void **state) {
    (void)state;
    nb_internal_cell_begin();
    int local = 0;
    char *h = m_alloc(100);
    const char *labels[] = { "&local", "h <heap> & \"x\"", "lit", "fn", "NULL" };
    const void *ptrs[] = { &local, h, runtime_test_literal, (const void *)runtime_test_function, NULL };
    rt_buf svg = {0}, text = {0};
    rt_memory_map(labels, ptrs, 5, &svg, &text);
    char why[128] = "";
    int ok = xml_ok(svg.s, why, sizeof why);
    if (!ok) fprintf(stderr, "%s\n%s\n", why, svg.s);
    assert_true(ok);
    assert_non_null(strstr(svg.s, "&amp;local"));
    assert_non_null(strstr(svg.s, "heap"));
    assert_non_null(strstr(svg.s, "stack"));
    assert_non_null(strstr(text.s, "&local = "));
    rt_buf_free(&svg);
    rt_buf_free(&text);
    m_free(h);
    nb_measure m;
    nb_internal_cell_end(&m);
}

/* -------------------------------------------------------------- displays */

static struct {
    int calls;
    nb_display last;
    char data[4][8192];
    char id[64];
    int kinds[64];
} sunk;

static void record(void *opaque, const nb_display *d) {
    (void)opaque;
    if (sunk.calls < 64) sunk.kinds[sunk.calls] = d->kind;
    sunk.calls++;
    sunk.last = *d;
    for (int i = 0; i < d->n && i < 4; i++) {
        snprintf(sunk.data[i], sizeof sunk.data[i], "%s", d->data[i]);
        sunk.last.data[i] = sunk.data[i];
    }
    snprintf(sunk.id, sizeof sunk.id, "%s", d->display_id ? d->display_id : "");
}

static void test_display_sink(void **state) {
    (void)state;
    memset(&sunk, 0, sizeof sunk);
    nb_internal_set_sink(record, NULL);
    nb_display_html("<b>hi</b>");
    assert_int_equal(sunk.calls, 1);
    assert_int_equal(sunk.last.kind, NB_DISPLAY_SHOW);
    assert_int_equal(sunk.last.n, 1);
    assert_string_equal(sunk.last.mime[0], "text/html");
    assert_string_equal(sunk.data[0], "<b>hi</b>");
    assert_null(sunk.last.display_id);

    nb_display_png("abc", 3);
    assert_string_equal(sunk.last.mime[0], "image/png");
    assert_string_equal(sunk.data[0], "YWJj");
    nb_display_png("ab", 2);
    assert_string_equal(sunk.data[0], "YWI=");

    nb_display_markdown("# title");
    assert_string_equal(sunk.last.mime[0], "text/markdown");
    nb_display_json("{\"a\": 1}");
    assert_string_equal(sunk.last.mime[0], "application/json");

    nb_display_mime("d1", "text/plain", "one");
    assert_int_equal(sunk.last.kind, NB_DISPLAY_SHOW);
    assert_string_equal(sunk.id, "d1");
    nb_update("d1", "text/plain", "two");
    assert_int_equal(sunk.last.kind, NB_DISPLAY_UPDATE);
    assert_string_equal(sunk.id, "d1");
    assert_string_equal(sunk.data[0], "two");

    nb_clear_output(1);
    assert_int_equal(sunk.last.kind, NB_DISPLAY_CLEAR);
    assert_int_equal(sunk.last.wait, 1);

    nb_table *t = nb_table_new("name|ns/op");
    nb_table_row(t, "%s|%.1f", "a<b", 12.5);
    nb_table_row(t, "%s|%d", "long name", 7);
    nb_table_show(t);
    assert_string_equal(sunk.last.mime[0], "text/html");
    assert_non_null(strstr(sunk.data[0], "<td style=\"padding:2px 10px;text-align:left\">a&lt;b</td>"));
    assert_string_equal(sunk.data[1], "name       ns/op\na<b         12.5\nlong name      7\n");

    /* progress: shown once, then updated in place; the last step always */
    nb_internal_cell_begin();
    int before = sunk.calls;
    for (long i = 0; i <= 1000; i++) nb_progress(i, 1000);
    assert_int_equal(sunk.kinds[before], NB_DISPLAY_SHOW);
    assert_true(sunk.calls - before >= 2 && sunk.calls - before <= 5);
    assert_int_equal(sunk.last.kind, NB_DISPLAY_UPDATE);
    assert_non_null(strstr(sunk.data[1], "100%"));
    nb_measure m;
    nb_internal_cell_end(&m);

    nb_internal_set_sink(NULL, NULL);
}

/* ---------------------------------------------------- bench and measure */

static void bench_alloc(nb_b *b) {
    for (long i = 0; i < b->n; i++) m_free(m_alloc(32));
}

/* A cell whose displays go to the test's sink and whose benchmarks are
 * short; returns the benchmark time to restore with bench_cell_end. */
static double bench_cell_begin(void) {
    memset(&sunk, 0, sizeof sunk);
    nb_internal_set_sink(record, NULL);
    nb_internal_cell_begin();
    return nb_bench_time(0.02);
}

static void bench_cell_end(double old) {
    nb_bench_time(old);
    nb_measure m;
    nb_internal_cell_end(&m);
    nb_internal_set_sink(NULL, NULL);
}

static void test_bench(void **state) {
    (void)state;
    double old = bench_cell_begin();
    nb_result r = nb_bench("alloc", bench_alloc);
    assert_true(r.n >= 1);
    assert_true(r.ns_per_op > 0);
    assert_true(r.min_ns_per_op <= r.ns_per_op && r.ns_per_op <= r.max_ns_per_op);
    assert_true(r.allocs_per_op == 1.0);
    assert_true(r.bytes_per_op == 32.0);
    long sum = 0;
    for (NB_BENCH(b, "loop")) {
        for (long i = 0; i < b->n; i++) sum += i;
    }
    nb_keep(sum);
    nb_result l = nb_bench_last();
    assert_string_equal(l.name, "Loop");
    assert_true(l.allocs_per_op == 0.0);
    nb_bench_chart();
    assert_int_equal(sunk.calls, 1);
    assert_string_equal(sunk.last.mime[0], "image/svg+xml");
    char why[128] = "";
    assert_true(xml_ok(sunk.data[0], why, sizeof why));
    assert_non_null(strstr(sunk.data[0], "Alloc"));
    assert_non_null(strstr(sunk.data[1], "Loop"));
    bench_cell_end(old);
}

static void bench_nothing(nb_b *b) {
    for (long i = 0; i < b->n; i++) nb_keep(i);
}

/* Interleaved benchmarks: each reported as nb_bench reports one, with its
 * own n and exact heap figures, under the caller's name. */
static void test_bench_interleaved(void **state) {
    (void)state;
    double old = bench_cell_begin();
    nb_bench_case c[] = { { "Alloc", bench_alloc, NULL, { 0 } }, { "Nothing", bench_nothing, NULL, { 0 } } };
    nb_bench_interleaved(c, 2);
    assert_string_equal(c[0].result.name, "Alloc");
    assert_string_equal(c[1].result.name, "Nothing");
    assert_true(c[0].result.allocs_per_op == 1.0 && c[0].result.bytes_per_op == 32.0);
    assert_true(c[1].result.allocs_per_op == 0.0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(c[k].result.runs, 5);
        assert_true(c[k].result.n >= 1 && c[k].result.cpu_ns_per_op > 0);
        assert_true(c[k].result.min_ns_per_op <= c[k].result.ns_per_op);
        assert_true(c[k].result.ns_per_op <= c[k].result.max_ns_per_op);
    }
    assert_true(c[1].result.n > c[0].result.n);       /* the cheaper one runs more operations */
    nb_bench_chart();                                  /* both are the cell's benchmarks */
    assert_int_equal(sunk.calls, 1);
    assert_non_null(strstr(sunk.data[0], "Alloc"));
    assert_non_null(strstr(sunk.data[0], "Nothing"));
    bench_cell_end(old);
}

static void test_format(void **state) {
    (void)state;
    nb_measure m;
    memset(&m, 0, sizeof m);
    m.compile_ns = 300000;
    m.run_ns = 1210000;
    m.allocs = 3;
    m.alloc_bytes = 96;
    m.frees = 2;
    m.live_delta_bytes = 32;
    m.peak_live_bytes = 64;
    m.stack_peak_bytes = 1229;
    m.stack_measured = 1;
    m.hist[5] = 3;
    char text[512], html[2048];
    nb_internal_format_measure(&m, 0, text, sizeof text, html, sizeof html);
    assert_string_equal(text, "compile 0.30 ms \xc2\xb7 run 1.21 ms \xc2\xb7 heap 3 allocs / 96 B, 2 frees, live +32 B, "
                              "peak 64 B \xc2\xb7 stack 1.2 KiB \xc2\xb7 faults 0");
    assert_non_null(strstr(html, "<div"));
    m.allocs = 1;
    m.frees = 1;
    m.live_delta_bytes = -32;
    nb_internal_format_measure(&m, 1, text, sizeof text, html, sizeof html);
    assert_non_null(strstr(text, "heap 1 alloc / 96 B, 1 free, live -32 B"));
    assert_non_null(strstr(text, "\nsizes: \xe2\x89\xa4" "32 B \xc3\x97" "3"));
    assert_non_null(strstr(text, "cpu "));
    /* truncation keeps a terminated string */
    char small[20];
    nb_internal_format_measure(&m, 0, small, sizeof small, NULL, 0);
    assert_true(strlen(small) < sizeof small);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_malloc_100),
        cmocka_unit_test(test_block_cache),
        cmocka_unit_test(test_leak_scan),
        cmocka_unit_test(test_family),
        cmocka_unit_test(test_libc_internal),
        cmocka_unit_test(test_internal_not_counted),
        cmocka_unit_test(test_threads_exact),
        cmocka_unit_test(test_stack),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_where_dead_frame),
        cmocka_unit_test(test_xml_checker),
        cmocka_unit_test(test_memory_map_svg),
        cmocka_unit_test(test_display_sink),
        cmocka_unit_test(test_bench),
        cmocka_unit_test(test_bench_interleaved),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
