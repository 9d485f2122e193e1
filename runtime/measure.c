/* measure.c - the measurement under every cell: bracketing the run,
 * collecting the figures into an nb_measure and formatting the line.
 *
 * Heap figures are differences of alloc.c's process-wide counters, so
 * they include threads the cell started and allocations libc made for it;
 * stack comes from stack.c; times and faults from the kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <link.h>
#include <sys/resource.h>
#include <unistd.h>
#include "nb.h"
#include "rt.h"

static struct {
    rt_alloc_totals t0;
    int64_t live0;
    long minflt0, majflt0;
    uint64_t cpu0, start;
} cell;

/* ------------------------------------------------------- libc's code */

uintptr_t rt_libc_lo, rt_libc_hi;

/* The executable segment of the object holding fopen (libc.so.6). */
static int find_libc_text(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && probe - lo < ph->p_memsz) {
            rt_libc_lo = lo;
            rt_libc_hi = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

__attribute__((constructor)) static void libc_text_init(void) {
    dl_iterate_phdr(find_libc_text, (void *)(uintptr_t)&fopen);
}

/* ------------------------------------------------------------ a cell */

static uint64_t cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Out of line, so that its frame is gone before the stack is cleared. */
__attribute__((noinline)) static void begin_counters(void) {
    rt_bench_cell_begin();
    rt_display_cell_begin();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    cell.minflt0 = ru.ru_minflt;
    cell.majflt0 = ru.ru_majflt;
    cell.cpu0 = cpu_ns();
    rt_alloc_totals_get(&cell.t0, 1);
    cell.live0 = rt_alloc_mark_peak();
    rt_alloc_track(1);
    cell.start = rt_now_ns();
}

void nb_internal_cell_begin(void) {
    /* The caller's stack pointer at the call: the cell runs below it. */
    uintptr_t base = (uintptr_t)__builtin_frame_address(0) + 16;
    begin_counters();
    rt_counters_cell_begin();
    rt_stack_begin(base);                /* last: it clears the stack below us */
}

static uint64_t rss_now(void) {
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    unsigned long size, resident;
    if (sscanf(buf, "%lu %lu", &size, &resident) != 2) return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

__attribute__((noinline)) static void end_counters(nb_measure *m, uint64_t stack, int ok) {
    uint64_t end = rt_now_ns();
    rt_alloc_track(0);
    memset(m, 0, sizeof *m);
    m->run_ns = end - cell.start;
    m->stack_peak_bytes = stack;
    m->stack_measured = ok;
    rt_alloc_totals t;
    rt_alloc_totals_get(&t, 1);
    m->allocs = t.allocs - cell.t0.allocs;
    m->frees = t.frees - cell.t0.frees;
    m->reallocs = t.reallocs - cell.t0.reallocs;
    m->alloc_bytes = t.alloc_bytes - cell.t0.alloc_bytes;
    m->freed_bytes = t.freed_bytes - cell.t0.freed_bytes;
    m->libc_allocs = t.libc_allocs - cell.t0.libc_allocs;
    m->libc_alloc_bytes = t.libc_alloc_bytes - cell.t0.libc_alloc_bytes;
    m->libc_frees = t.libc_frees - cell.t0.libc_frees;
    m->live_delta_bytes = t.live - cell.live0;
    m->peak_live_bytes = t.peak > cell.live0 ? (uint64_t)(t.peak - cell.live0) : 0;
    for (int b = 0; b < NB_HIST_BUCKETS; b++) m->hist[b] = t.hist[b] - cell.t0.hist[b];
    m->cpu_ns = cpu_ns() - cell.cpu0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    m->minor_faults = (uint64_t)(ru.ru_minflt - cell.minflt0);
    m->major_faults = (uint64_t)(ru.ru_majflt - cell.majflt0);
    m->max_rss_bytes = (uint64_t)ru.ru_maxrss * 1024u;
    m->rss_bytes = rss_now();
}

void nb_internal_cell_end(nb_measure *m) {
    int ok;
    uint64_t stack = rt_stack_peak(1, &ok);     /* first: before calls dirty the stack */
    end_counters(m, stack, ok);
    rt_counters_cell_end(&m->counters);
}

nb_heap_counts nb_heap(void) {
    nb_heap_counts c;
    static __thread rt_alloc_totals t;   /* out of the frame: it is not the cell's stack */
    rt_alloc_totals_get(&t, 0);
    c.allocs = t.allocs - cell.t0.allocs;
    c.frees = t.frees - cell.t0.frees;
    c.alloc_bytes = t.alloc_bytes - cell.t0.alloc_bytes;
    c.freed_bytes = t.freed_bytes - cell.t0.freed_bytes;
    c.libc_allocs = t.libc_allocs - cell.t0.libc_allocs;
    c.libc_frees = t.libc_frees - cell.t0.libc_frees;
    c.live_bytes = t.live - cell.live0;
    c.peak_bytes = t.peak > cell.live0 ? (unsigned long long)(t.peak - cell.live0) : 0;
    return c;
}

/* ------------------------------------------------------------- format */

static void pow2_label(char *out, size_t n, int k) {
    static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    snprintf(out, n, "%llu %s", 1ull << (k % 10), unit[k / 10]);
}

/* Heap figures are exact: bytes as they are up to 10 KiB (100 x 32 is
 * "3200 B", not "3.1 KiB"). */
static void heap_bytes(char *out, size_t n, double v) {
    if (v > -10240 && v < 10240) snprintf(out, n, "%.0f B", v);
    else rt_buf_fmt_bytes(out, n, v);
}

/* " (libc's own: 8 allocs / 1178 B, 8 frees)": the part of the heap
 * figures that libc's code asked for itself, or "" if none. */
static void libc_note(char *out, size_t n, const nb_measure *m) {
    if (!m->libc_allocs && !m->libc_frees) { *out = 0; return; }
    char bytes[32];
    heap_bytes(bytes, sizeof bytes, (double)m->libc_alloc_bytes);
    snprintf(out, n, " (libc's own: %llu alloc%s / %s, %llu free%s)", (unsigned long long)m->libc_allocs,
             m->libc_allocs == 1 ? "" : "s", bytes, (unsigned long long)m->libc_frees, m->libc_frees == 1 ? "" : "s");
}

/* "leaked 2 blocks / 48 B", or "" if none (or not checked). */
static void leaks_words(const nb_measure *m, char *out, size_t n) {
    *out = 0;
    if (m->leaks_checked == NB_LEAKS_THREAD) {
        snprintf(out, n, "leaks not checked (a thread did not stop)");
    } else if (m->leaks_checked == NB_LEAKS_THREAD_BLOCKS) {
        snprintf(out, n, "leaks not checked (a thread did not stop: it blocks the signal that stops it)");
    } else if (m->leaks_checked == NB_LEAKS_TOO_BIG) {
        snprintf(out, n, "leaks not checked (over 32 MiB to read)");
    } else if (m->leaks_checked == NB_LEAKS_NO_MEMORY) {
        snprintf(out, n, "leaks not checked (no memory for the scan)");
    } else if (m->leaks_checked > 0 && m->leaked_blocks) {
        char bytes[32];
        heap_bytes(bytes, sizeof bytes, (double)m->leaked_bytes);
        snprintf(out, n, "leaked %llu block%s / %s", (unsigned long long)m->leaked_blocks,
                 m->leaked_blocks == 1 ? "" : "s", bytes);
    }
}

static void copy_out(char *dst, size_t n, const rt_buf *b) {
    if (!dst || !n) return;
    size_t len = b->s ? b->len : 0;
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)b->s[len] & 0xC0) == 0x80) len--;   /* keep UTF-8 whole */
    }
    if (len) memcpy(dst, b->s, len);
    dst[len] = 0;
}

int nb_internal_format_measure(const nb_measure *m, int verbose, char *text, size_t n, char *html, size_t hn) {
    rt_inside_begin();
    char compile[32], run[32], bytes[32], live[32], peak[32], stack[32], cpu[32], rss[32], libc[96];
    libc_note(libc, sizeof libc, m);
    rt_buf_fmt_ns(compile, sizeof compile, (double)m->compile_ns);
    rt_buf_fmt_ns(run, sizeof run, (double)m->run_ns);
    heap_bytes(bytes, sizeof bytes, (double)m->alloc_bytes);
    heap_bytes(live, sizeof live, (double)m->live_delta_bytes);
    heap_bytes(peak, sizeof peak, (double)m->peak_live_bytes);
    if (m->stack_measured) rt_buf_fmt_bytes(stack, sizeof stack, (double)m->stack_peak_bytes);
    else snprintf(stack, sizeof stack, "?");
    rt_buf_fmt_ns(cpu, sizeof cpu, (double)m->cpu_ns);
    rt_buf_fmt_bytes(rss, sizeof rss, (double)m->rss_bytes);
    const char *sign = m->live_delta_bytes >= 0 ? "+" : "";
    unsigned long long faults = (unsigned long long)(m->minor_faults + m->major_faults);
    char major[32] = "";
    if (m->major_faults) snprintf(major, sizeof major, " (%llu major)", (unsigned long long)m->major_faults);
    const char *dot = " \xc2\xb7 ";

    /* kept from cell to cell: growing new ones wrote fresh heap pages,
     * each a fault after the worker's snapshot fork */
    static rt_buf t, h;
    t.len = h.len = 0;
    t.failed = h.failed = 0;
    rt_buf_printf(&t, "compile %s%srun %s%sheap %llu alloc%s / %s, %llu free%s, live %s%s, peak %s%s%sstack %s%sfaults %llu%s",
                  compile, dot, run, dot, (unsigned long long)m->allocs, m->allocs == 1 ? "" : "s", bytes,
                  (unsigned long long)m->frees, m->frees == 1 ? "" : "s", sign, live, peak, libc, dot, stack, dot, faults, major);
    if (m->main_ran) rt_buf_printf(&t, "%smain returned %d", dot, m->main_status);
    if (m->compiler[0]) rt_buf_printf(&t, "%scompiled by %s", dot, m->compiler);
    char leaked[96] = "";
    leaks_words(m, leaked, sizeof leaked);
    if (*leaked) rt_buf_printf(&t, "%s%s", dot, leaked);
    if (verbose) rt_buf_printf(&t, "%scpu %s%srss %s", dot, cpu, dot, rss);

    rt_buf_puts(&h, "<div style=\"font-family:var(--jp-code-font-family,ui-monospace,monospace);font-size:11.5px;"
                    "line-height:1.6;color:inherit;opacity:0.72\">");
#define B(x) "<b style=\"font-weight:600\">" x "</b>"
    rt_buf_printf(&h, "<span title=\"compile time: parse, compile, relocate\">compile " B("%s") "</span>%s"
                      "<span title=\"wall time of the cell's code\">run " B("%s") "</span>%s"
                      "<span title=\"heap traffic while the cell ran, libc's own calls included (in parentheses: those alone)\">heap "
                      B("%llu") " alloc%s / " B("%s") ", " B("%llu") " free%s, live " B("%s%s") ", peak " B("%s") "%s</span>%s"
                      "<span title=\"deepest stack use below the cell's frame\">stack " B("%s") "</span>%s"
                      "<span title=\"page faults (minor: a fresh or copied page; major: read from disk)\">faults " B("%llu%s") "</span>",
                  compile, dot, run, dot, (unsigned long long)m->allocs, m->allocs == 1 ? "" : "s", bytes,
                  (unsigned long long)m->frees, m->frees == 1 ? "" : "s", sign, live, peak, libc, dot, stack, dot, faults, major);
    if (m->main_ran)
        rt_buf_printf(&h, "%s<span title=\"the value the cell's main() returned\">main returned " B("%d") "</span>",
                      dot, m->main_status);
    if (m->compiler[0]) {
        rt_buf_printf(&h, "%s<span title=\"the compiler of this cell (%%%%cc)\">compiled by <b style=\"font-weight:600\">",
                      dot);
        rt_buf_xml(&h, m->compiler);
        rt_buf_puts(&h, "</b></span>");
    }
    if (*leaked)
        rt_buf_printf(&h, "%s<span title=\"blocks allocated by cells that nothing reaches any more "
                          "(%%leaks)\">" B("%s") "</span>", dot, leaked);
    if (verbose)
        rt_buf_printf(&h, "%s<span title=\"CPU time of the process, all threads\">cpu " B("%s") "</span>%s"
                          "<span title=\"resident set size at the end\">rss " B("%s") "</span>", dot, cpu, dot, rss);
    if (verbose) rt_counters_format(&m->counters, &t, &h);
    if (verbose) {
        int any = 0;
        for (int k = 0; k < NB_HIST_BUCKETS; k++) any |= m->hist[k] != 0;
        if (any) {
            rt_buf_puts(&t, "\nsizes:");
            rt_buf_puts(&h, "<br>sizes:");
            int first = 1;
            for (int k = 0; k < NB_HIST_BUCKETS; k++) {
                if (!m->hist[k]) continue;
                char lab[32];
                pow2_label(lab, sizeof lab, k);
                const char *rel = k == NB_HIST_BUCKETS - 1 ? ">" : "\xe2\x89\xa4";
                if (k == NB_HIST_BUCKETS - 1) pow2_label(lab, sizeof lab, k - 1);
                rt_buf_printf(&t, "%s %s%s \xc3\x97%llu", first ? "" : ",", rel, lab, (unsigned long long)m->hist[k]);
                rt_buf_printf(&h, "%s %s%s " B("\xc3\x97%llu"), first ? "" : ",", rel, lab, (unsigned long long)m->hist[k]);
                first = 0;
            }
        }
    }
#undef B
    rt_buf_puts(&h, "</div>");
    copy_out(text, n, &t);
    copy_out(html, hn, &h);
    rt_inside_end();
    return (int)t.len;
}
