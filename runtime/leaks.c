/* leaks.c - blocks that nothing reaches any more, found when a cell ends.
 *
 * A conservative mark, as LeakSanitizer's: every aligned word of the
 * roots that falls inside a live block marks it, and the words of marked
 * blocks are read in turn. Roots: the writable segments of every loaded
 * object (data, bss, the main thread's TLS: the runtime, libc, the
 * worker), the cells' data and bss (the worker passes them), and the
 * stacks and registers of the other live threads, which are stopped
 * meanwhile: each is sent STOP_SIGNAL, whose handler copies its registers
 * out and waits on a futex until the scan is over. What stays unmarked,
 * and is the cells' (not the runtime's, not the dynamic linker's own
 * records such as threads' TLS vectors), is a leak.
 *
 * The blocks are alloc.c's list of blocks allocated while cells ran,
 * sorted by address (radix) in a work area of our own: an address is
 * found by binary search. The work area is MADV_DONTFORK: after the
 * worker's snapshot fork, writing it costs no copy-on-write fault.
 *
 * Must not: allocate (the allocator is locked, other threads stopped). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "rt.h"

#define STOP_SIGNAL (SIGRTMAX - 2)
#define MAX_ROOTS 512
#define MAX_THREADS 256
#define ANSWER_NS 2000000000ll              /* a thread's time to answer STOP_SIGNAL */
#define BLOCKED_NS 100000000ll              /* ... if it blocks STOP_SIGNAL */
#define READ_BUDGET ((uint64_t)32 << 20)    /* heap bytes read at most: about 20 ms */

typedef struct { uintptr_t lo, hi; } span;

/* ------------------------------------------------------- the work area
 *
 * Everything a scan writes lives in one mapping of its own, MADV_DONTFORK:
 * after the worker's snapshot fork a page written in the worker's own
 * memory costs a copy-on-write fault; one written here costs nothing. */

typedef struct {
    uintptr_t *start, *end, *tmp;           /* blocks sorted; TMP for the sort */
    uint32_t *todo;                         /* marked, words not yet read */
    unsigned char *marked;
    size_t n, ntodo;
    uintptr_t lo, hi;                       /* all blocks lie in [lo, hi) */
    sigjmp_buf fault_jump;                  /* where a fault while reading returns to */
    volatile sig_atomic_t reading;
    struct sigaction before_segv, before_bus;
    uint64_t roots_of;                      /* objects_key() of ROOTS (0: list them again) */
    size_t nroots;
    span roots[MAX_ROOTS];                  /* the loaded objects' writable segments */
} scan_state;

static scan_state *W;                       /* at the start of the work area */
static size_t work_cap;
static pid_t work_pid;                      /* the process that mapped it */

/* Room for N blocks (the state kept). 0, or -1. */
static int work_area(size_t n) {
    if (W && work_pid != getpid()) {        /* a forked copy (the snapshot): not inherited */
        W = NULL;
        work_cap = 0;
    }
    size_t need = sizeof(scan_state) + n * (3 * sizeof(uintptr_t) + sizeof(uint32_t) + 1) + 64;
    if (need > work_cap) {
        size_t cap = (need + (1 << 20)) & ~(size_t)0xfff;
        scan_state *w = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (w == MAP_FAILED) return -1;
        madvise(w, cap, MADV_DONTFORK);
        if (W) {
            memcpy(w, W, sizeof *W);
            munmap(W, work_cap);
        }
        W = w;
        work_cap = cap;
        work_pid = getpid();
    }
    W->start = (uintptr_t *)(W + 1);
    W->end = W->start + n;
    W->tmp = W->end + n;
    W->todo = (uint32_t *)(W->tmp + n);
    W->marked = (unsigned char *)(W->todo + n);
    memset(W->marked, 0, n);
    W->n = n;
    W->ntodo = 0;
    return 0;
}

/* Radix sort of N addresses, 8 bits a pass; passes where every address
 * has the same digit (the high ones, mostly) are skipped. */
static void sort_addresses(uintptr_t *v, uintptr_t *tmp, size_t n) {
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = { 0 };
        for (size_t i = 0; i < n; i++) count[((v[i] >> shift) & 0xff) + 1]++;
        if (count[((v[0] >> shift) & 0xff) + 1] == n) continue;
        for (int d = 0; d < 256; d++) count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++) tmp[count[(v[i] >> shift) & 0xff]++] = v[i];
        memcpy(v, tmp, n * sizeof *v);
    }
}

/* ---------------------------------------------------------------- mark */

static inline void mark(uintptr_t w) {
    if (w - W->lo >= W->hi - W->lo) return;
    size_t lo = 0, hi = W->n;                /* the last block starting at or below W */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (W->start[mid] <= w) lo = mid;
        else hi = mid;
    }
    if (W->start[lo] > w || (w >= W->end[lo] && w != W->start[lo]) || W->marked[lo]) return;
    W->marked[lo] = 1;
    W->todo[W->ntodo++] = (uint32_t)lo;
}

/* Most words point nowhere near a block: eight at a time are tested
 * without a branch each (the compiler vectorises it), and only a group
 * with a candidate is looked up. */
static void scan_words_raw(uintptr_t lo, uintptr_t hi) {
    const uintptr_t *p = (const uintptr_t *)((lo + 7) & ~(uintptr_t)7);
    const uintptr_t *end = (const uintptr_t *)(hi & ~(uintptr_t)7);
    uintptr_t base = W->lo, span = W->hi - W->lo;
    for (; end - p >= 8; p += 8) {
        int any = 0;
        for (int k = 0; k < 8; k++) any |= p[k] - base < span;
        if (__builtin_expect(any, 0))
            for (int k = 0; k < 8; k++) mark(p[k]);
    }
    for (; p < end; p++) mark(*p);
}

/* A cell may have made memory unreadable (mprotect PROT_NONE on a page
 * of its globals or of a block): while the scan reads, a fault skips the
 * rest of the range read. Any other fault goes to the handler before
 * (crash.c's), as it would have. */
static void on_fault(int sig, siginfo_t *si, void *ctx) {
    (void)si;
    (void)ctx;
    if (W->reading) {
        W->reading = 0;
        siglongjmp(W->fault_jump, 1);
    }
    /* not the scan's: the handler before gets it, as the fault repeats */
    sigaction(sig, sig == SIGSEGV ? &W->before_segv : &W->before_bus, NULL);
}

static void catch_faults(int on) {
    if (!on) {
        sigaction(SIGSEGV, &W->before_segv, NULL);
        sigaction(SIGBUS, &W->before_bus, NULL);
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;     /* NODEFER: the mask stays as it was */
    sigaction(SIGSEGV, &sa, &W->before_segv);
    sigaction(SIGBUS, &sa, &W->before_bus);
}

static void scan_words(uintptr_t lo, uintptr_t hi) {
    if (sigsetjmp(W->fault_jump, 0)) return;    /* unreadable: skipped */
    W->reading = 1;
    scan_words_raw(lo, hi);
    W->reading = 0;
}

/* Read [LO, HI) if the budget allows: 0, or -1 (then what stays unmarked
 * proves nothing). *READ counts the bytes. */
static int scan_budgeted(uintptr_t lo, uintptr_t hi, uint64_t *read) {
    *read += hi - lo;
    if (*read > READ_BUDGET) return -1;
    scan_words(lo, hi);
    return 0;
}

/* Read the marked blocks' words, and theirs: 0, or -1 over the budget. */
static int drain(uint64_t *read) {
    while (W->ntodo) {
        uint32_t i = W->todo[--W->ntodo];
        if (scan_budgeted(W->start[i], W->end[i], read) < 0) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- roots */

static void add_root(uintptr_t lo, uintptr_t hi) {
    if (hi > lo && W->nroots < MAX_ROOTS) W->roots[W->nroots++] = (span){ lo, hi };
}

/* The dynamic linker's code: its blocks (threads' TLS vectors, link
 * maps) are its records, never a cell's leak. */
static uintptr_t ldso_lo, ldso_hi;

static int segment_roots(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    int ldso = slash && strncmp(slash + 1, "ld-", 3) == 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) add_root(lo, lo + ph->p_memsz);
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && ldso) {
            ldso_lo = lo;
            ldso_hi = lo + ph->p_memsz;
        }
        if (ph->p_type == PT_TLS && info->dlpi_tls_data)      /* this (the main) thread's */
            add_root((uintptr_t)info->dlpi_tls_data, (uintptr_t)info->dlpi_tls_data + ph->p_memsz);
        else if (ph->p_type == PT_TLS)
            W->roots_of = 0;                /* not allocated yet: list again next time */
    }
    return 0;
}

/* Which objects are loaded, as a number: the dynamic linker's list of
 * them, read without its lock (dl_iterate_phdr takes it, and writing the
 * lock costs a copy-on-write fault after each snapshot fork). */
static uint64_t objects_key(void) {
    uint64_t key = 1469598103934665603ull;
    for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
        key ^= (uintptr_t)l ^ (uint64_t)l->l_addr;
        key *= 1099511628211ull;
    }
    return key ? key : 1;
}

/* The writable segments of the loaded objects, listed again only when
 * they changed (a %lib, a dlopen). */
static void list_roots(void) {
    uint64_t key = objects_key();
    if (W->roots_of == key) return;
    W->nroots = 0;
    W->roots_of = key;
    dl_iterate_phdr(segment_roots, NULL);
}

/* Read [LO, HI) but for the parts in SKIP. */
static void scan_root(uintptr_t lo, uintptr_t hi, const span *skip, size_t nskip) {
    for (size_t k = 0; k < nskip && lo < hi; k++) {
        if (skip[k].hi <= lo || skip[k].lo >= hi) continue;
        if (skip[k].lo > lo) scan_root(lo, skip[k].lo, skip + k + 1, nskip - k - 1);
        lo = skip[k].hi;
    }
    if (lo < hi) scan_words(lo, hi);
}

/* ------------------------------------------------------- other threads */

static struct {
    int hold;                               /* the scan's number while it runs, else 0 */
    int scans;
    int answered, taken;
    struct { pid_t tid; uintptr_t tp, regs[NGREG]; } t[MAX_THREADS];
    pid_t sent[MAX_THREADS];
    int nsent;
} T;

static uintptr_t hex_digit(char c) { return (uintptr_t)(c <= '9' ? c - '0' : c - 'a' + 10); }

static long futex(int *addr, int op, int val) {
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static void on_stop(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)si;
    int scan = __atomic_load_n(&T.hold, __ATOMIC_SEQ_CST);
    if (!scan) return;                      /* late: that scan is over */
    int saved = errno;
    int i = __atomic_fetch_add(&T.taken, 1, __ATOMIC_SEQ_CST);
    if (i < MAX_THREADS) {
        const ucontext_t *uc = ctx;
        T.t[i].tid = (pid_t)syscall(SYS_gettid);
        __asm__("mov %%fs:0, %0" : "=r"(T.t[i].tp));      /* glibc: the thread's own TCB */
        for (int r = 0; r < NGREG; r++) T.t[i].regs[r] = (uintptr_t)uc->uc_mcontext.gregs[r];
    }
    __atomic_fetch_add(&T.answered, 1, __ATOMIC_SEQ_CST);
    futex(&T.answered, FUTEX_WAKE_PRIVATE, 1);
    /* until this scan is over: a next one has another number, so a thread
     * still here when it starts leaves, and answers that one's signal */
    while (__atomic_load_n(&T.hold, __ATOMIC_SEQ_CST) == scan)
        futex(&T.hold, FUTEX_WAIT_PRIVATE, scan);
    errno = saved;
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int was_sent(pid_t tid) {
    for (int i = 0; i < T.nsent; i++) if (T.sent[i] == tid) return 1;
    return 0;
}

/* Signal every thread of the process not signalled yet; how many were,
 * or -1 (no list, or more threads than MAX_THREADS). */
static int signal_new_threads(pid_t self) {
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    char buf[4096];
    int added = 0;
    long len;
    while ((len = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < len;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            pid_t tid = 0;
            for (const char *c = d->d_name; *c >= '0' && *c <= '9'; c++)
                tid = tid * 10 + (*c - '0');
            if (tid <= 0 || tid == self || was_sent(tid)) continue;
            if (T.nsent >= MAX_THREADS) added = -1;
            else if (added >= 0 && syscall(SYS_tgkill, getpid(), tid, STOP_SIGNAL) == 0) {
                T.sent[T.nsent++] = tid;
                added++;
            }
        }
    }
    close(fd);
    return added;
}

/* "/proc/self/task/TID" and SUFFIX in PATH (no stdio: it may allocate). */
static void task_path(pid_t tid, const char *suffix, char *path) {
    int n = 0;
    char digits[16];
    do digits[n++] = (char)('0' + tid % 10); while ((tid /= 10) && n < 15);
    memcpy(path, "/proc/self/task/", 16);
    for (int i = 0; i < n; i++) path[16 + i] = digits[n - 1 - i];
    strcpy(path + 16 + n, suffix);
}

static int thread_alive(pid_t tid) {
    char path[64];
    task_path(tid, "", path);
    return access(path, F_OK) == 0;
}

/* Whether thread TID blocks STOP_SIGNAL now (its SigBlk line). A thread
 * inside on_stop does too, for as long as it takes to leave it. */
static int blocks_stop_signal(pid_t tid) {
    char path[64], buf[4096];
    task_path(tid, "/status", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[got > 0 ? got : 0] = 0;
    const char *at = strstr(buf, "\nSigBlk:");
    if (!at) return 0;
    uint64_t mask = 0;
    for (at += 9; *at == '\t' || *at == ' '; at++) {}
    for (; (*at >= '0' && *at <= '9') || (*at >= 'a' && *at <= 'f'); at++)
        mask = mask << 4 | hex_digit(*at);
    return (mask >> (STOP_SIGNAL - 1)) & 1;
}

/* Threads signalled that have not answered and still live (a thread
 * that exited after it was listed never answers); with UNBLOCKED, only
 * those that do not block STOP_SIGNAL. */
static int missing_answers(int unblocked) {
    int missing = 0;
    for (int i = 0; i < T.nsent; i++) {
        int seen = 0;
        for (int k = 0; k < T.taken && k < MAX_THREADS; k++) seen |= T.t[k].tid == T.sent[i];
        if (!seen && thread_alive(T.sent[i]) && !(unblocked && blocks_stop_signal(T.sent[i])))
            missing++;
    }
    return missing;
}

/* Wait until every thread signalled answered (or is gone). 0, or -1 (or
 * -2: those missing block STOP_SIGNAL). A
 * thread that still blocks STOP_SIGNAL after BLOCKED_NS never answers
 * (nor did it after the last cell): no use waiting ANSWER_NS for it. */
static int wait_answers(void) {
    int64_t start = now_ns(), deadline = start + ANSWER_NS;
    for (int round = 1;; round++) {
        int got = __atomic_load_n(&T.answered, __ATOMIC_SEQ_CST);
        if ((got >= T.nsent || round % 16 == 0) && !missing_answers(0)) return 0;
        int64_t now = now_ns();
        if (now > deadline) return missing_answers(0) ? -1 : 0;
        if (round % 16 == 0 && now - start > BLOCKED_NS && !missing_answers(1)) return -2;
        struct timespec wait = { 0, 1000000 };
        syscall(SYS_futex, &T.answered, FUTEX_WAIT_PRIVATE, got, &wait, NULL, 0);
    }
}

/* Checked at each scan: a cell may have given STOP_SIGNAL a handler of
 * its own, or SIG_DFL, which for a real-time signal ends the process. */
static void install_handler(void) {
    struct sigaction sa;
    if (sigaction(STOP_SIGNAL, NULL, &sa) == 0 && sa.sa_sigaction == on_stop) return;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_stop;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(STOP_SIGNAL, &sa, NULL);
}

/* Stop every other thread: 0, or -1 if one did not answer (-2: it blocks
 * STOP_SIGNAL). Threads a
 * stopped thread started meanwhile are found by listing again. */
static int stop_threads(void) {
    if (__libc_single_threaded) return 0;       /* and T is not written: a page less to fault */
    T.nsent = T.answered = T.taken = 0;
    install_handler();
    if (++T.scans <= 0) T.scans = 1;
    __atomic_store_n(&T.hold, T.scans, __ATOMIC_SEQ_CST);
    pid_t self = (pid_t)syscall(SYS_gettid);
    for (int round = 0; round < 8; round++) {
        int added = signal_new_threads(self);
        if (added <= 0) return added;
        int waited = wait_answers();
        if (waited < 0) return waited;
    }
    return -1;
}

static void resume_threads(void) {
    if (__atomic_load_n(&T.hold, __ATOMIC_SEQ_CST)) __atomic_store_n(&T.hold, 0, __ATOMIC_SEQ_CST);
    if (!T.nsent) return;
    futex(&T.hold, FUTEX_WAKE_PRIVATE, 1 << 30);
    memset(T.t, 0, sizeof T.t);                   /* no stale registers as roots next time */
}

/* The end of the mapping holding SP, from /proc/self/maps (read without
 * stdio, which allocates), or 0. */
static uintptr_t mapping_end(uintptr_t sp) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[8192];
    size_t have = 0;
    uintptr_t found = 0;
    for (;;) {
        ssize_t got = read(fd, buf + have, sizeof buf - 1 - have);
        if (got <= 0) break;
        have += (size_t)got;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
            uintptr_t lo = 0, hi = 0;
            const char *c = line;
            for (; *c != '-'; c++) lo = lo * 16 + hex_digit(*c);
            for (c++; *c != ' '; c++) hi = hi * 16 + hex_digit(*c);
            if (lo <= sp && sp < hi) found = hi;
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (found) break;
    }
    close(fd);
    return found;
}

static void scan_threads(void) {
    int n = T.taken < MAX_THREADS ? T.taken : MAX_THREADS;
    for (int i = 0; i < n; i++) {
        for (int r = 0; r < NGREG; r++) mark(T.t[i].regs[r]);
        /* the stack up to the mapping's end, or to the thread's TCB
         * (glibc puts it and the TLS atop the stack): a mapping next to
         * it may have merged with the stack's */
        uintptr_t sp = T.t[i].regs[REG_RSP], top = mapping_end(sp), tp = T.t[i].tp;
        if (tp > sp && tp < top && top - tp > 4096) top = tp + 4096;
        if (top) scan_words(sp > 128 ? sp - 128 : sp, top);      /* the red zone too */
    }
}

/* ---------------------------------------------------------------- scan */

#define MAX_SKIP 8

/* The caller's ranges not to read, and the threads' registers (read
 * apart). */
static size_t skip_list(const nb_range *skip, size_t nskip, span *out) {
    size_t n = 0;
    out[n++] = (span){ (uintptr_t)&T, (uintptr_t)(&T + 1) };
    for (size_t i = 0; i < nskip && n < MAX_SKIP; i++)
        out[n++] = (span){ (uintptr_t)skip[i].lo, (uintptr_t)skip[i].hi };
    return n;
}

/* The tracked blocks, sorted, with their ends. -1 if no room. */
static int take_blocks(void) {
    size_t n;
    const uintptr_t *live = rt_alloc_live(&n);
    if (work_area(n ? n : 1) < 0) return -1;
    W->n = n;
    if (!n) return 0;
    memcpy(W->start, live, n * sizeof *live);
    sort_addresses(W->start, W->tmp, n);
    W->lo = W->start[0];
    W->hi = 0;
    for (size_t i = 0; i < n; i++) {
        size_t size;
        const void *site;
        rt_alloc_block_of(W->start[i], &size, &site);
        W->end[i] = W->start[i] + size;
        if (W->end[i] + 1 > W->hi) W->hi = W->end[i] + 1;
    }
    return 0;
}

static long collect(nb_leak *out, size_t max, uint64_t *bytes) {
    long found = 0;
    for (size_t i = 0; i < W->n; i++) {
        size_t size;
        const void *site;
        if (W->marked[i] || !rt_alloc_block_of(W->start[i], &size, &site)) continue;
        if ((uintptr_t)site - ldso_lo < ldso_hi - ldso_lo) continue;
        if ((size_t)found < max) out[found] = (nb_leak){ (const void *)W->start[i], size, site };
        *bytes += size;
        found++;
        rt_alloc_set_reported(W->start[i]);
    }
    return found;
}

long nb_internal_leak_scan(const nb_range *cells, size_t ncells, const nb_range *skip, size_t nskip,
                           nb_leak *out, size_t max, uint64_t *bytes) {
    *bytes = 0;
    if (work_area(0) < 0) return NB_LEAKS_NO_MEMORY;
    list_roots();                                   /* before stopping anyone: it may take a lock */
    rt_alloc_lock();
    long found = NB_LEAKS_NO_MEMORY;
    int stopped = stop_threads();
    if (stopped < 0) {
        found = stopped == -2 ? NB_LEAKS_THREAD_BLOCKS : NB_LEAKS_THREAD;
    } else if (take_blocks() == 0) {
        int over = 0;
        uint64_t read = 0;                          /* the cells' globals and the heap */
        if (W->n) {
            catch_faults(1);
            span no[MAX_SKIP];
            size_t nno = skip_list(skip, nskip, no);
            for (size_t i = 0; i < W->nroots; i++)
                scan_root(W->roots[i].lo, W->roots[i].hi, no, nno);
            for (size_t i = 0; i < ncells && !over; i++)
                over = scan_budgeted((uintptr_t)cells[i].lo, (uintptr_t)cells[i].hi, &read) < 0;
            scan_threads();
            over = over || drain(&read) < 0;
            catch_faults(0);
        }
        found = over ? NB_LEAKS_TOO_BIG : collect(out, max, bytes);
    }
    rt_alloc_unlock();                              /* first: the woken threads may allocate */
    resume_threads();
    return found;
}
