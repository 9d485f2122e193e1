/* profile.c - CPU sampling of a cell (see prof_record.h), and the stack walk
 * the heap profile shares.
 *
 * Each thread gets a perf cpu-clock event (or, where perf events are not
 * allowed, a timer on its own CPU clock) that signals it every 1/HZ s of
 * the CPU time it uses: a busy thread is sampled, a sleeping one is not,
 * and what other processes take of the machine changes nothing. The
 * signal is the event's own SIGTRAP where the kernel has perf's sigtrap
 * (Linux 5.13), SIGPROF otherwise (perf_sampler says why); other traps
 * go on to the crash report (pass_trap_on). Threads the cell starts
 * are found by a slower timer on the process's CPU clock, whose signal
 * only looks for new threads in /proc/self/task. The handler walks the
 * frame-pointer chain that tcc always keeps, reading only memory it knows
 * is stack (or through process_vm_readv, which fails instead of faulting),
 * and appends the stack to the shared record. */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "prof_record.h"
#include "rt.h"

#define REGION_BYTES ((size_t)96 << 20)
#define SCAN_HZ 100                 /* looks for new threads, per CPU second of the process */
#define MAX_TIMERS 512
#define TAG_SAMPLE 0x5a
#define TAG_SCAN 0x5b
#ifndef TRAP_PERF
#define TRAP_PERF 6                 /* si_code of perf's SIGTRAP (Linux 5.13) */
#endif

static prof_region *R;
static prof_resolver_fn resolver;
static uintptr_t main_stack_hi;     /* the top of the main thread's stack */
extern char __executable_start[], etext[];

prof_region *prof_region_get(void) { return R; }
void prof_set_resolver(prof_resolver_fn fn) { resolver = fn; }

static void disarm_all(void);

/* A process the cell forks while it is profiled samples nothing and
 * charges nothing: its copies of the samplers' descriptors would keep
 * signalling the parent's thread, and its allocations are not the cell's. */
static void forked_child(void) {
    disarm_all();
    prof_heap_on = 0;
}

int prof_region_make(void) {
    if (R) return 0;
    void *p = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED || prof_heap_reserve() < 0) return -1;
    R = p;
    R->cap = (REGION_BYTES - sizeof *R) / sizeof(uint64_t);
    pthread_atfork(NULL, NULL, forked_child);
    return 0;
}

/* The handler's own time, by the monotonic clock: read in the vDSO, it
 * costs no system call, where a thread's CPU clock costs two a sample
 * (0.3% of the cell at 1 kHz here). A handler lasts microseconds and is
 * almost never preempted on the way. */
static uint64_t handler_clock_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t process_cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ------------------------------------------------------------ frames */

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* The record of PC, claimed and named at first sight (any thread, in a
 * signal handler too: a claim is one compare-and-swap). */
static prof_frame *note_pc(uintptr_t pc) {
    if (!R || !pc) return NULL;
    for (uint64_t i = mix(pc), k = 0; k < 64; i++, k++) {
        prof_frame *f = &R->frames[i % PROF_FRAMES];
        uintptr_t seen = __atomic_load_n(&f->pc, __ATOMIC_ACQUIRE);
        if (seen == pc) return __atomic_load_n(&f->state, __ATOMIC_ACQUIRE) >= 2 ? f : NULL;
        if (seen) continue;
        uintptr_t zero = 0;
        if (!__atomic_compare_exchange_n(&f->pc, &zero, pc, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            if (zero == pc) return NULL;      /* another thread is naming it */
            continue;
        }
        int cell = 0;
        uint32_t off = 0;
        int named = resolver && rt_in_cell_region(pc) &&
                    resolver((const void *)pc, f->name, sizeof f->name, &cell, &off);
        f->cell = cell;
        f->offset = off;
        __atomic_store_n(&f->state, named ? 2 : 3, __ATOMIC_RELEASE);
        return f;
    }
    return NULL;
}

const prof_frame *prof_frame_of(uintptr_t pc) { return note_pc(pc); }

/* ---------------------------------------------------------- the walk */

/* Read N words at ADDR: directly when it lies on the main thread's stack
 * between the stack pointer and the top, else by process_vm_readv. */
static int read_words(uintptr_t sp, uintptr_t addr, uintptr_t *out, size_t n) {
    uintptr_t end = addr + n * sizeof *out;
    if (main_stack_hi && sp <= addr && end <= main_stack_hi && main_stack_hi - sp < (256u << 20)) {
        memcpy(out, (const void *)addr, n * sizeof *out);
        return 0;
    }
    struct iovec l = { out, n * sizeof *out }, r = { (void *)addr, n * sizeof *out };
    return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)(n * sizeof *out) ? 0 : -1;
}

/* Whether A, in cell code, follows a call instruction (a return address). */
static int after_call(uintptr_t a) {
    if (!rt_in_cell_region(a) || !rt_in_cell_region(a - 7)) return 0;
    const unsigned char *c = (const unsigned char *)a;
    return c[-5] == 0xE8 || (c[-2] == 0xFF && (c[-1] & 0x38) == 0x10) ||
           (c[-3] == 0xFF && (c[-2] & 0x38) == 0x10) || (c[-6] == 0xFF && (c[-5] & 0x38) == 0x10);
}

static int in_worker(uintptr_t a) { return a >= (uintptr_t)__executable_start && a < (uintptr_t)etext; }

/* Below a library function (which keeps no frame pointer) the innermost
 * cell frame's return address lies somewhere above the stack pointer: the
 * first word there that returns into cell code just after a call and
 * whose frame checks out (frame_of_call). 0 if none. */
static uintptr_t frame_of_call(uintptr_t ra, uintptr_t at, uintptr_t sp, uintptr_t hint);

static uintptr_t scan_for_return(uintptr_t sp, uintptr_t fp, uintptr_t *at, uintptr_t *caller_fp) {
    uintptr_t words[512];
    size_t n = 512;
    while (n > 0 && read_words(sp, sp, words, n) < 0) n /= 2;
    for (size_t i = 0; i < n; i++) {
        if (!after_call(words[i])) continue;
        *at = sp + i * sizeof *words;
        if ((*caller_fp = frame_of_call(words[i], *at, sp, fp))) return words[i];
    }
    return 0;
}

/* Follow the frame-pointer chain from FP (a frame above LOW) after the
 * N frames in PCS. */
static int chain_walk(uintptr_t fp, uintptr_t low, uintptr_t sp, uintptr_t *pcs, int n, int max,
                      uint32_t *flags) {
    while (n < max) {
        uintptr_t fr[2];
        if (fp < low || (fp & 7) || fp - sp > (256u << 20) || read_words(sp, fp, fr, 2) < 0) {
            *flags = PROF_CUT_FRAME;
            return n;
        }
        uintptr_t ra = fr[1];
        if (in_worker(ra)) { *flags = PROF_END_RUNTIME; return n; }
        if (rt_in_cell_region(ra) && !after_call(ra)) { *flags = PROF_CUT_FRAME; return n; }
        pcs[n++] = ra;
        if (!rt_in_cell_region(ra)) { *flags = PROF_CUT_LIBRARY; return n; }
        low = fp + 16;
        fp = fr[0];
    }
    *flags = PROF_CUT_DEPTH;
    return n;
}

/* Whether the function at START begins push rbp; mov rbp, rsp. */
static int has_prologue(uintptr_t start) {
    if (!rt_in_cell_region(start) || !rt_in_cell_region(start + 4)) return 0;
    const unsigned char *c = (const unsigned char *)start;
    return c[0] == 0x55 && c[1] == 0x48 && c[2] == 0x89 && c[3] == 0xe5;
}

/* Whether RA returns from a direct call (call rel32) to TARGET. */
static int calls(uintptr_t ra, uintptr_t target) {
    if (!rt_in_cell_region(ra) || !rt_in_cell_region(ra - 5)) return 0;
    const unsigned char *c = (const unsigned char *)ra;
    int32_t rel;
    memcpy(&rel, c - 4, sizeof rel);
    return c[-5] == 0xE8 && ra + (uintptr_t)(intptr_t)rel == target;
}

/* The frame size tcc's prologue reserves (push rbp; mov rbp, rsp;
 * sub rsp, imm32), or -1 when the code at START is not such a prologue. */
static long frame_size(uintptr_t start) {
    if (!rt_in_cell_region(start) || !rt_in_cell_region(start + 11)) return -1;
    const unsigned char *c = (const unsigned char *)start;
    if (c[0] != 0x55 || c[1] != 0x48 || c[2] != 0x89 || c[3] != 0xe5) return -1;
    if (c[4] != 0x48 || c[5] != 0x81 || c[6] != 0xec) return -1;
    int32_t n;
    memcpy(&n, c + 7, sizeof n);
    return n >= 0 ? n : -1;
}

/* Whether FP holds a frame: a return into cell code after a call with
 * the caller's frame above, a return into libc (qsort calling a
 * comparison), or into the kernel's runtime. */
static int valid_frame(uintptr_t sp, uintptr_t fp) {
    uintptr_t fr[2];
    if ((fp & 7) || read_words(sp, fp, fr, 2) < 0) return 0;
    if (in_worker(fr[1])) return 1;
    return rt_in_cell_region(fr[1]) ? after_call(fr[1]) && fr[0] > fp : rt_from_libc((const void *)fr[1]);
}

/* The frame pointer of the cell function that made a call returning to RA,
 * whose return address lies at AT: its frame ends where the call's return
 * address was pushed (give or take the call's alignment), and its prologue
 * says how large it is (HINT, the rbp register, may be it, higher when the
 * call had arguments on the stack). 0 when that cannot be told: the caller
 * is then not trusted. */
static uintptr_t frame_of_call(uintptr_t ra, uintptr_t at, uintptr_t sp, uintptr_t hint) {
    const prof_frame *f = note_pc(ra);
    if (!f || f->state != 2) return 0;
    long size = frame_size(ra - f->offset);
    if (size < 0) return 0;
    uintptr_t base = at + 8 + (uintptr_t)size;
    if (hint >= base && hint - base <= 512 && valid_frame(sp, hint)) return hint;
    for (uintptr_t pad = 0; pad <= 16; pad += 8)       /* the call's alignment, a stack argument */
        if (valid_frame(sp, base + pad)) return base + pad;
    return 0;
}

int prof_walk(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t *pcs, int max, uint32_t *flags) {
    int n = 0;
    *flags = PROF_END_ROOT;
    pcs[n++] = pc;
    if (!rt_in_cell_region(pc)) {
        /* a library (or the runtime) at the top: the cell function that
         * called it is the first return into cell code on the stack whose
         * frame checks out */
        uintptr_t at = 0, caller_fp = 0, ra = scan_for_return(sp, fp, &at, &caller_fp);
        if (!ra) { *flags = in_worker(pc) ? PROF_END_RUNTIME : PROF_CUT_LIBRARY; return n; }
        pcs[n++] = ra;
        return chain_walk(caller_fp, at + 8, sp, pcs, n, max, flags);
    }
    /* at a function's first instruction (push rbp), its second (mov rbp,
     * rsp) or its ret, rbp is still the caller's frame */
    const prof_frame *f = note_pc(pc);
    uintptr_t top[2];
    uintptr_t start = f && f->state == 2 ? pc - f->offset : 0;
    if (start && !has_prologue(start)) {
        /* a function that makes no frame (gcc's leaves, %%cc): its return
         * address is on top of the stack if it pushed nothing, which only
         * a direct call to it can confirm */
        if (read_words(sp, sp, top, 1) < 0 || !calls(top[0], start)) { *flags = PROF_CUT_FRAME; return n; }
        pcs[n++] = top[0];
    } else if ((f && f->state == 2 && f->offset <= 1) || *(const unsigned char *)pc == 0xC3) {
        if (read_words(sp, sp, top, 2) == 0) {
            uintptr_t ra = f && f->offset == 1 ? top[1] : top[0];
            if (rt_in_cell_region(ra)) pcs[n++] = ra;
        }
    }
    return chain_walk(fp, sp, sp, pcs, n, max, flags);
}

/* The stack of an allocation, from inside the allocator (whose frames
 * keep no frame pointer): SITE, the allocating call's return address, and
 * the frames above. A call from cell code: its return address lies on the
 * stack just above the allocator's frames, the highest copy of SITE there
 * (copies below are the allocator's own, and the cell frame's locals never
 * hold it); the frame it returns to is known from its prologue. A call
 * from a library (strdup): the cell frame that called that, as for a
 * sample (scan_for_return). */
int prof_walk_alloc(uintptr_t site, uintptr_t *pcs, int max, uint32_t *flags) {
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    int n = 0;
    *flags = rt_in_cell_region(site) ? PROF_CUT_FRAME : PROF_CUT_LIBRARY;
    pcs[n++] = site;
    uintptr_t at = 0, fp = 0, ra = 0;
    if (rt_in_cell_region(site)) {
        uintptr_t w[384];
        size_t nw = sizeof w / sizeof *w;
        while (nw > 8 && read_words(sp, sp, w, nw) < 0) nw /= 2;
        for (size_t i = 0; i < nw; i++) if (w[i] == site) at = sp + i * sizeof *w;
        fp = at ? frame_of_call(site, at, sp, 0) : 0;
    } else if ((ra = scan_for_return(sp, 0, &at, &fp))) {
        pcs[n++] = ra;
    }
    return fp ? chain_walk(fp, at + 8, sp, pcs, n, max, flags) : n;
}

/* ------------------------------------------------------------ timers */

/* A thread's sampler: a perf_event_open cpu-clock event (an hrtimer: the
 * rate asked for) that signals the thread on each period, or, where perf
 * events are not allowed, a POSIX timer on its CPU clock (checked at the
 * scheduler's tick: some 250 Hz at most). */
static struct { pid_t tid; int fd; timer_t timer; } timers[MAX_TIMERS];
static int ntimers;
static timer_t scan_timer;
static int have_scan_timer;
static int timers_lock;

static void timer_spec(struct itimerspec *it, int hz) {
    long ns = 1000000000L / (hz > 0 ? hz : 1000);
    it->it_interval.tv_sec = ns / 1000000000L;
    it->it_interval.tv_nsec = ns % 1000000000L;
    it->it_value = it->it_interval;
}

/* First choice, the event's own SIGTRAP (sigtrap): the kernel queues it
 * on the thread's way back to user mode. SIGPROF through the descriptor
 * (O_ASYNC) needs an interrupt the kernel sends itself to get out of the
 * timer's first: on these virtual machines that cost 0.6-2.2% more of the
 * cell at 1 kHz (make bench-sampler). */
static int perf_sampler(pid_t tid, int hz) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.sample_period = (uint64_t)(1000000000L / (hz > 0 ? hz : 1000));
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.wakeup_events = 1;
    a.sigtrap = 1;
    a.remove_on_exec = 1;                   /* sigtrap requires it */
    int fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd >= 0) {
        R->signo = SIGTRAP;
        return fd;
    }
    a.sigtrap = 0;
    a.remove_on_exec = 0;
    fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) return -1;
    struct f_owner_ex owner = { F_OWNER_TID, tid };
    if (fcntl(fd, F_SETFL, O_ASYNC) < 0 || fcntl(fd, F_SETSIG, SIGPROF) < 0 ||
        fcntl(fd, F_SETOWN_EX, &owner) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sample thread TID from now on. */
static void arm_thread(pid_t tid) {
    for (int i = 0; i < ntimers; i++) if (timers[i].tid == tid) return;
    if (ntimers == MAX_TIMERS) return;
    timers[ntimers].tid = tid;
    timers[ntimers].fd = perf_sampler(tid, R->hz);
    if (timers[ntimers].fd < 0) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_THREAD_ID;
        ev.sigev_signo = SIGPROF;
        ev.sigev_value.sival_int = TAG_SAMPLE;
        ev._sigev_un._tid = tid;
        clockid_t clock = (clockid_t)((~(unsigned)tid << 3) | 6);   /* the thread's CPU clock */
        if (timer_create(clock, &ev, &timers[ntimers].timer) < 0) return;
        struct itimerspec it;
        timer_spec(&it, R->hz);
        timer_settime(timers[ntimers].timer, 0, &it, NULL);
    }
    ntimers++;
    R->threads = ntimers;
}

static void disarm_all(void) {
    for (int i = 0; i < ntimers; i++) {
        if (timers[i].fd >= 0) close(timers[i].fd);
        else timer_delete(timers[i].timer);
    }
    ntimers = 0;
}

/* New threads in /proc/self/task get their timers; only syscalls, so a
 * signal handler may call it. */
static void scan_threads(void) {
    if (__atomic_exchange_n(&timers_lock, 1, __ATOMIC_ACQUIRE)) return;
    /* the directory's link count is 2 + its threads (procfs): one stat
     * says whether they changed; the whole list is read then, and every
     * tenth time anyway (one thread ended, another began) */
    static nlink_t last_links;
    static unsigned ticks;
    struct stat st;
    if (stat("/proc/self/task", &st) == 0 && st.st_nlink == last_links && ++ticks % 10) {
        __atomic_store_n(&timers_lock, 0, __ATOMIC_RELEASE);
        return;
    }
    last_links = st.st_nlink;
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char buf[4096];
    long got;
    while (fd >= 0 && (got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < got;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d =
                (void *)(buf + off);
            pid_t tid = 0;
            for (const char *c = d->name; *c >= '0' && *c <= '9'; c++) tid = tid * 10 + (*c - '0');
            if (tid > 0 && R->active) arm_thread(tid);
            off += d->reclen;
        }
    }
    if (fd >= 0) close(fd);
    __atomic_store_n(&timers_lock, 0, __ATOMIC_RELEASE);
}

static void append_sample(const uintptr_t *pcs, int n, uint32_t flags) {
    uint64_t at = __atomic_fetch_add(&R->used, (uint64_t)n + 1, __ATOMIC_ACQ_REL);
    if (at + (uint64_t)n + 1 > R->cap) {
        __atomic_fetch_add(&R->dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int i = 0; i < n; i++) R->log[at + 1 + (uint64_t)i] = pcs[i];
    __atomic_store_n(&R->log[at], (uint64_t)n | (uint64_t)flags << 8 | (uint64_t)1 << 16, __ATOMIC_RELEASE);
    __atomic_fetch_add(&R->samples, 1, __ATOMIC_RELAXED);
}

/* SIGTRAP's action before the sampler took it: the crash report's. */
static struct sigaction trap_before;

/* A trap that is no sample (a cell's int3) goes where it went before, as
 * the kernel would have delivered it (SA_RESETHAND: the action is the
 * default again while the handler runs). */
static void pass_trap_on(int sig, siginfo_t *si, void *ctx) {
    struct sigaction was = trap_before, dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, was.sa_flags & SA_RESETHAND ? &dfl : &was, NULL);
    if (was.sa_handler == SIG_DFL) raise(sig);            /* delivered once this handler returns */
    else if (was.sa_handler == SIG_IGN) return;
    else if (was.sa_flags & SA_SIGINFO) was.sa_sigaction(sig, si, ctx);
    else was.sa_handler(sig);
}

static void on_prof(int sig, siginfo_t *si, void *ctx) {
    if (sig == SIGTRAP && si->si_code != TRAP_PERF) {
        pass_trap_on(sig, si, ctx);
        return;
    }
    int saved = errno;
    if (!R || !R->active) { errno = saved; return; }
    uint64_t t0 = handler_clock_ns();
    if (si->si_code == SI_TIMER && si->si_value.sival_int == TAG_SCAN) {
        scan_threads();
    } else {
        const ucontext_t *uc = ctx;
        uintptr_t pcs[PROF_DEPTH];
        uint32_t flags;
        int n = prof_walk((uintptr_t)uc->uc_mcontext.gregs[REG_RIP], (uintptr_t)uc->uc_mcontext.gregs[REG_RBP],
                          (uintptr_t)uc->uc_mcontext.gregs[REG_RSP], pcs, PROF_DEPTH, &flags);
        for (int i = 0; i < n; i++) note_pc(pcs[i]);
        append_sample(pcs, n, flags);
    }
    __atomic_fetch_add(&R->handler_ns, handler_clock_ns() - t0, __ATOMIC_RELAXED);
    errno = saved;
}

static void find_main_stack(void) {
    if (main_stack_hi) return;
    rt_map *maps = NULL;
    rt_inside_begin();
    int n = rt_maps_read(&maps);
    for (int i = 0; i < n; i++)
        if (strcmp(maps[i].path, "[stack]") == 0) main_stack_hi = maps[i].hi;
    free(maps);
    rt_inside_end();
}

/* Empty the record for a new profile; pages the last one used go back. */
static void region_reset(int hz, int cell) {
    size_t used = (size_t)R->used * sizeof(uint64_t);
    if (used) madvise((char *)R->log, (used + 4095) & ~(size_t)4095, MADV_REMOVE);
    memset(R, 0, offsetof(prof_region, frames));
    memset(R->frames, 0, sizeof R->frames);
    memset(R->sites, 0, sizeof R->sites);
    R->cap = (REGION_BYTES - sizeof *R) / sizeof(uint64_t);
    R->hz = hz;
    R->cell = cell;
    R->signo = SIGPROF;                     /* SIGTRAP once perf_sampler gets sigtrap */
}

int prof_start(int hz, int heap, int cell) {
    if (prof_region_make() < 0) return -1;
    if (R->active) prof_stop();             /* its timers, else they sample on, unowned */
    find_main_stack();
    region_reset(hz > 0 ? hz : 1000, cell);
    if (heap) {
        prof_heap_begin();
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPROF, &sa, NULL);
    /* SIGTRAP stays the sampler's after the profile (a late sample finds
     * it), and passes other traps on */
    struct sigaction now;
    if (sigaction(SIGTRAP, NULL, &now) == 0 && now.sa_sigaction != on_prof) trap_before = now;
    sigaction(SIGTRAP, &sa, NULL);
    /* an earlier cell may have blocked them: its mask is the session's */
    sigset_t prof;
    sigemptyset(&prof);
    sigaddset(&prof, SIGPROF);
    sigaddset(&prof, SIGTRAP);
    pthread_sigmask(SIG_UNBLOCK, &prof, NULL);
    ntimers = 0;
    R->cpu_ns = process_cpu_ns();
    R->active = 1;
    arm_thread((pid_t)syscall(SYS_gettid));
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGPROF;
    ev.sigev_value.sival_int = TAG_SCAN;
    have_scan_timer = timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &scan_timer) == 0;
    if (have_scan_timer) {
        struct itimerspec it;
        timer_spec(&it, SCAN_HZ);
        timer_settime(scan_timer, 0, &it, NULL);
    }
    scan_threads();
    return 0;
}

/* Whether the cell blocked the samples' signal or gave it a handler of
 * its own: its samples were lost, and the profile says why instead of
 * "no CPU time". */
static void note_signal_lost(void) {
    struct sigaction now;
    sigset_t mask;
    if (sigaction(R->signo, NULL, &now) == 0 && now.sa_sigaction != on_prof)
        R->signal_lost |= PROF_SIGNAL_HANDLER;
    if (pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, R->signo))
        R->signal_lost |= PROF_SIGNAL_BLOCKED;
}

void prof_stop(void) {
    if (!R) return;
    if (R->heap) { prof_heap_end(); return; }
    if (!R->active) return;
    R->active = 0;
    R->cpu_ns = process_cpu_ns() - R->cpu_ns;
    note_signal_lost();
    while (__atomic_exchange_n(&timers_lock, 1, __ATOMIC_ACQUIRE)) {}
    if (have_scan_timer) timer_delete(scan_timer);
    have_scan_timer = 0;
    disarm_all();
    __atomic_store_n(&timers_lock, 0, __ATOMIC_RELEASE);
}
