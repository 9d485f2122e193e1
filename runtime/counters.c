/* counters.c - perf_event_open's counters for %measure verbose: per cell
 * (measure.c) and per nb_bench operation (bench.c).
 *
 * Software counters: task clock (user-mode CPU time of the cell's
 * threads), context switches, page faults. Context switches happen in the
 * kernel, which perf_event_paranoid 2 hides from an unprivileged process:
 * then getrusage's count (voluntary + involuntary, all threads) stands in.
 * Hardware counters (cycles, instructions, cache and branch misses) where
 * the machine has a PMU; a virtual machine often has none, and the first
 * verbose line says so, once. Counting events are inherited by threads
 * the cell starts. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "rt.h"

enum { TASK_CLOCK, SWITCHES, FAULTS, CYCLES, INSTRUCTIONS, CACHE_MISSES, BRANCH_MISSES, N_EVENTS };

static const struct { uint32_t type; uint64_t config; } events[N_EVENTS] = {
    { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
    { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
    { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
    { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
    { PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
    { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
    { PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES },
};

static int want;
static int no_hardware_said;
static rt_counter_set cell_set;

void nb_internal_counters_want(int on) { want = on; }
int rt_counters_wanted(void) { return want; }

static int open_event(int i, int kernel_too) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = events[i].type;
    a.size = sizeof a;
    a.config = events[i].config;
    a.exclude_kernel = !kernel_too;
    a.exclude_hv = 1;
    a.inherit = 1;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static uint64_t rusage_switches(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_nvcsw + ru.ru_nivcsw);
}

void rt_counters_open(rt_counter_set *s) {
    for (int i = 0; i < N_EVENTS; i++) {
        s->fd[i] = i == SWITCHES ? open_event(i, 1) : open_event(i, 0);
        if (i >= CYCLES && s->fd[i] < 0) { for (int k = i + 1; k < N_EVENTS; k++) s->fd[k] = -1; break; }
    }
    s->csw0 = rusage_switches();
}

static uint64_t read_event(int fd) {
    uint64_t v = 0;
    if (fd >= 0 && read(fd, &v, sizeof v) != (ssize_t)sizeof v) v = 0;
    return v;
}

void rt_counters_close(rt_counter_set *s, nb_counters *c) {
    memset(c, 0, sizeof *c);
    c->measured = s->fd[TASK_CLOCK] >= 0;
    c->hardware = s->fd[CYCLES] >= 0;
    c->task_clock_ns = read_event(s->fd[TASK_CLOCK]);
    c->context_switches = s->fd[SWITCHES] >= 0 ? read_event(s->fd[SWITCHES]) : rusage_switches() - s->csw0;
    c->page_faults = read_event(s->fd[FAULTS]);
    c->cycles = read_event(s->fd[CYCLES]);
    c->instructions = read_event(s->fd[INSTRUCTIONS]);
    c->cache_misses = read_event(s->fd[CACHE_MISSES]);
    c->branch_misses = read_event(s->fd[BRANCH_MISSES]);
    for (int i = 0; i < N_EVENTS; i++) if (s->fd[i] >= 0) close(s->fd[i]);
}

void rt_counters_cell_begin(void) {
    if (want) rt_counters_open(&cell_set);
}

void rt_counters_cell_end(nb_counters *c) {
    if (want) rt_counters_close(&cell_set, c);
    else memset(c, 0, sizeof *c);
}

void rt_counters_format(const nb_counters *c, rt_buf *t, rt_buf *h) {
    if (!c->measured) {
        rt_buf_puts(t, "\ncounters: perf_event_open is not allowed here");
        rt_buf_puts(h, "<br>counters: perf_event_open is not allowed here");
        return;
    }
    char clock[32];
    rt_buf_fmt_ns(clock, sizeof clock, (double)c->task_clock_ns);
    rt_buf_printf(t, "\ncounters: task clock %s \xc2\xb7 %llu context switches \xc2\xb7 %llu page faults", clock,
                  (unsigned long long)c->context_switches, (unsigned long long)c->page_faults);
    rt_buf_printf(h, "<br><span title=\"perf_event_open's software counters: user-mode CPU time of the cell's "
                     "threads, context switches, page faults\">counters: task clock <b>%s</b> \xc2\xb7 "
                     "<b>%llu</b> context switches \xc2\xb7 <b>%llu</b> page faults</span>", clock,
                  (unsigned long long)c->context_switches, (unsigned long long)c->page_faults);
    if (c->hardware) {
        double ipc = c->cycles ? (double)c->instructions / (double)c->cycles : 0;
        rt_buf_printf(t, " \xc2\xb7 %llu cycles, %llu instructions (%.2f a cycle), %llu cache misses, "
                      "%llu branch misses", (unsigned long long)c->cycles, (unsigned long long)c->instructions,
                      ipc, (unsigned long long)c->cache_misses, (unsigned long long)c->branch_misses);
        rt_buf_printf(h, " \xc2\xb7 <b>%llu</b> cycles, <b>%llu</b> instructions (%.2f a cycle), <b>%llu</b> "
                      "cache misses, <b>%llu</b> branch misses", (unsigned long long)c->cycles,
                      (unsigned long long)c->instructions, ipc, (unsigned long long)c->cache_misses,
                      (unsigned long long)c->branch_misses);
    } else if (!no_hardware_said) {
        no_hardware_said = 1;
        const char *why = " \xc2\xb7 no hardware counters on this machine (no PMU, as in most virtual "
                          "machines): no cycles, instructions or cache misses";
        rt_buf_puts(t, why);
        rt_buf_puts(h, why);
    }
}
