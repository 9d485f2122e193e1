/* crash.c - the dying worker's last word (see crash.h).
 *
 * Owns the fatal-signal handlers, the alternate signal stack and the
 * timeout timer. Everything here runs in a signal handler: no malloc, no
 * stdio; snprintf into static buffers and write(2). */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>
#include "checked.h"
#include "compile.h"
#include "crash.h"
#include "guard.h"
#include "ipc.h"
#include "nb_internal.h"

static const session *crash_session;
static const char *site_label;   /* what the site of a crash event is, if not an allocation */
static unsigned long crash_memory_mib;

void crash_set_memory_limit(unsigned long mib) { crash_memory_mib = mib; }
static double crash_timeout;

static char out[16384];     /* the event's JSON */
static size_t out_len;

/* The cell frames shown, as data for the kernel (ipc.h): each one's name
 * and offset, the traceback line that shows it and how much of that line
 * is the frame ("  f() + 24"), so the kernel can add the cell line there
 * without reading the text. */
static struct { const char *name; unsigned long off; int tb_line; size_t head_len; } frames[16];
static int nframes;
static int tb_lines;        /* traceback lines put so far */

static void note_frame(const char *name, unsigned long off, size_t head_len) {
    if (nframes < 16) {
        frames[nframes].name = name;
        frames[nframes].off = off;
        frames[nframes].tb_line = tb_lines;      /* the line about to be put */
        frames[nframes].head_len = head_len;
        nframes++;
    }
}

static void put(const char *s) {
    size_t n = strlen(s);
    if (out_len + n >= sizeof out) n = sizeof out - 1 - out_len;
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = 0;
}

/* Append S as the body of a JSON string. */
static void put_json(const char *s) {
    char esc[8];
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { esc[0] = '\\'; esc[1] = (char)c; esc[2] = 0; put(esc); }
        else if (c < 32) { snprintf(esc, sizeof esc, "\\u%04x", c); put(esc); }
        else if (c >= 0xF5) put("?");      /* never UTF-8; 0xFF marks frames (ipc.h) */
        else { esc[0] = (char)c; esc[1] = 0; put(esc); }
    }
}

/* ------------------------------------------------------------- regions */

typedef struct {
    uintptr_t lo, hi;
    char perms[5];
    char name[128];
} mapping;

/* Find the mapping holding ADDR in /proc/self/maps (and the [stack]). */
static int find_mapping(uintptr_t addr, mapping *hit, mapping *stack) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    static char buf[65536];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)n;
    close(fd);
    buf[len] = 0;
    int found = 0;
    memset(stack, 0, sizeof *stack);
    for (char *line = buf; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        mapping m;
        memset(&m, 0, sizeof m);
        unsigned long lo, hi;
        int name_at = 0;
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &lo, &hi, m.perms, &name_at) >= 3) {
            m.lo = lo;
            m.hi = hi;
            if (name_at > 0) snprintf(m.name, sizeof m.name, "%s", line + name_at);
            if (strcmp(m.name, "[stack]") == 0) *stack = m;
            if (addr >= m.lo && addr < m.hi) { *hit = m; found = 1; }
        }
        line = next;
    }
    return found;
}

/* Describe where ADDR lies, in words, into BUF. */
static void describe_address(uintptr_t addr, char *buf, size_t n) {
    mapping m, stack;
    const char *name;
    unsigned long off;
    int kind = crash_session ? session_symbolize(crash_session, (void *)addr, &name, &off, NULL) : 0;
    int mapped = find_mapping(addr, &m, &stack);
    int cell = 0;
    compile_part part = compile_part_of((void *)addr, &cell);
    if (addr < 4096) {
        snprintf(buf, n, "a NULL pointer (nothing is ever mapped near 0)");
    } else if (part == COMPILE_LITERAL && kind == 'g') {
        snprintf(buf, n, "read-only data: the const global '%s' (byte %lu) of cell %d; "
                 "a compiled program keeps const objects read-only too", name, off, cell);
    } else if (part == COMPILE_LITERAL) {
        snprintf(buf, n, "read-only data: a string literal (or other constant) of cell %d; "
                 "a compiled program keeps literals read-only too", cell);
    } else if (kind == 'g') {
        snprintf(buf, n, "inside the global '%s' (byte %lu)", name, off);
    } else if (kind == 'f') {
        snprintf(buf, n, "inside the code of %s() (byte %lu)", name, off);
    } else if (stack.hi && addr < stack.lo && stack.lo - addr < (64u << 20)) {
        snprintf(buf, n, "just below the stack (%lu bytes under it): the stack overflowed",
                 (unsigned long)(stack.lo - addr));
    } else if (!mapped) {
        snprintf(buf, n, "no memory is mapped there");
    } else if (strcmp(m.name, "[stack]") == 0) {
        snprintf(buf, n, "on the stack (%lu bytes below its top)", (unsigned long)(m.hi - addr));
    } else if (strcmp(m.name, "[heap]") == 0) {
        snprintf(buf, n, "in the heap (%s)", m.perms);
    } else if (part == COMPILE_CODE || part == COMPILE_STUBS) {
        snprintf(buf, n, "in the code of cell %d (read+execute, never writable)", cell);
    } else if (part == COMPILE_DATA || part == COMPILE_BSS) {
        snprintf(buf, n, "in the %s of cell %d", part == COMPILE_DATA ? "data" : "bss", cell);
    } else if (compile_in_arena((void *)addr)) {
        snprintf(buf, n, "in cell code or data (%s)", m.perms);
    } else if (m.name[0]) {
        snprintf(buf, n, "in %s (%s)", m.name, m.perms);
    } else {
        snprintf(buf, n, "in an anonymous mapping (%s), where heap blocks of 128 KiB and more live", m.perms);
    }
}

/* ------------------------------------------------------------ handlers */

static const char *signal_words(int sig) {
    switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGBUS:  return "Bus error";
    case SIGFPE:  return "Arithmetic exception";
    case SIGILL:  return "Illegal instruction";
    case SIGABRT: return "Aborted";
    case SIGTRAP: return "Trap";
    case SIGSYS:  return "Bad system call";
    default:      return "Signal";
    }
}

static const char *code_words(int sig, int code) {
    if (sig == SIGSEGV) return code == SEGV_MAPERR ? "address not mapped" :
                               code == SEGV_ACCERR ? "no permission for this access" : "";
    if (sig == SIGFPE) return code == FPE_INTDIV ? "integer division by zero" :
                              code == FPE_INTOVF ? "integer overflow" :
                              code == FPE_FLTDIV ? "floating-point division by zero" : "";
    if (sig == SIGBUS) return code == BUS_ADRALN ? "misaligned address" :
                              code == BUS_ADRERR ? "address beyond the end of a mapped file" : "";
    return "";
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV"; case SIGBUS: return "SIGBUS"; case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL"; case SIGABRT: return "SIGABRT"; case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS"; case SIGALRM: return "SIGALRM"; default: return "signal";
    }
}

/* One more line of the traceback. */
static void put_tb(const char *line) {
    put(",\"");
    put_json(line);
    put("\"");
    tb_lines++;
}

/* "  f() + 24" for a frame in cell code, with where f was defined when an
 * earlier cell defined it (WHERE), put as a traceback line and noted. */
static void put_frame(const char *name, unsigned long off, int where) {
    char line[256];
    int cnt, ln;
    int head = snprintf(line, sizeof line, strchr(name, ' ') ? "  %s + %lu" : "  %s() + %lu", name, off);
    size_t head_len = head < 0 ? 0 : (size_t)head < sizeof line ? (size_t)head : sizeof line - 1;
    if (where && session_where_defined(crash_session, name, &cnt, &ln) && cnt > 0)
        snprintf(line + head_len, sizeof line - head_len, ", defined in cell [%d], line %d", cnt, ln);
    else if (where && session_where_defined(crash_session, name, &cnt, &ln))
        snprintf(line + head_len, sizeof line - head_len, ", defined at line %d of its cell", ln);
    note_frame(name, off, head_len);
    put_tb(line);
}

/* Whether RA is a return address in cell code: just after a call. */
static int after_call(uintptr_t ra, const char **name, unsigned long *off) {
    if (session_symbolize(crash_session, (void *)ra, name, off, NULL) != 'f' || *off < 6) return 0;
    const unsigned char *c = (const unsigned char *)ra;
    return c[-5] == 0xE8 || c[-2] == 0xFF || c[-3] == 0xFF || c[-6] == 0xFF;
}

/* The caller of a frameless function of a %%cc cell at PC (gcc keeps no
 * frame in a leaf, -fno-omit-frame-pointer or not): its return address is
 * on top of the stack, and the frame chain skips it. 0 if not so. */
static uintptr_t frameless_caller(const ucontext_t *uc, uintptr_t pc, uintptr_t fp) {
    if (compile_part_of((void *)pc, NULL) != COMPILE_UNKNOWN) return 0;   /* tcc's: a frame */
    uintptr_t top[1], frame[2] = { 0, 0 };
    void *sp = (void *)uc->uc_mcontext.gregs[REG_RSP];
    struct iovec l = { top, sizeof top }, r = { sp, sizeof top };
    if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)sizeof top) return 0;
    struct iovec lf = { frame, sizeof frame }, rf = { (void *)fp, sizeof frame };
    if (fp >= 4096 && process_vm_readv(getpid(), &lf, 1, &rf, 1, 0) == (ssize_t)sizeof frame && frame[1] == top[0])
        return 0;                        /* it has a frame after all */
    const char *name;
    unsigned long off;
    return after_call(top[0], &name, &off) ? top[0] : 0;
}

/* The cell functions on the stack, innermost first, by the frame-pointer
 * chain that tcc always keeps. */
static void put_backtrace(const ucontext_t *uc) {
    const char *name;
    unsigned long off;
    char line[256];
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
    int shown = 0, frames = 0;
    put_tb("Cell functions on the stack (innermost first):");
    /* A fault or signal inside libc (memset, raise, abort), which keeps no
     * frame pointers, leaves the innermost cell function's return address
     * somewhere between the stack pointer and the frame chain: the first
     * word there that points into cell code just after a call. */
    uintptr_t innermost = 0;
    if (crash_session && session_symbolize(crash_session, (void *)pc, &name, &off, NULL) != 'f') {
        uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        uintptr_t end = fp > sp && fp - sp < (64u << 10) ? fp + 16 : sp + (16u << 10);
        static uintptr_t words[2048];
        struct iovec l = { words, end - sp < sizeof words ? end - sp : sizeof words }, r = { (void *)sp, l.iov_len };
        ssize_t got = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
        for (size_t i = 0; got > 0 && i < (size_t)got / sizeof *words; i++) {
            uintptr_t ra = words[i];
            if (!after_call(ra, &name, &off)) continue;
            innermost = ra;
            put_frame(name, off, 0);
            shown++;
            break;
        }
    }
    uintptr_t caller = crash_session && !innermost ? frameless_caller(uc, pc, fp) : 0;
    for (int depth = 0; depth < 100000 && pc; depth++) {
        if (pc != innermost && crash_session && session_symbolize(crash_session, (void *)pc, &name, &off, NULL) == 'f') {
            frames++;
            if (shown < 12) {
                put_frame(name, off, 1);
                shown++;
            }
        }
        if (depth == 0 && caller && after_call(caller, &name, &off)) {
            frames++;
            put_frame(name, off, 1);
            shown++;
        }
        /* next frame: [fp] = caller's fp, [fp+8] = return address */
        if (fp < 4096 || (fp & 7)) break;
        uintptr_t frame[2];
        struct iovec local = { frame, sizeof frame }, remote = { (void *)fp, sizeof frame };
        if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)sizeof frame) break;
        if (frame[0] <= fp) break;
        fp = frame[0];
        pc = frame[1];
    }
    if (frames > shown) {
        snprintf(line, sizeof line, "  ... and %d more", frames - shown);
        put_tb(line);
    }
    if (frames == 0 && shown == 0) put_tb("  (none: the fault is outside cell code)");
}

/* LABEL ("The block was allocated at:") and the cell function SITE is
 * in, as a frame (the snapshot adds its line). */
static void put_site(const char *label, const void *site) {
    const char *name;
    unsigned long off;
    /* the return address of the call: one byte back is the call itself,
     * on its own line (the next instruction may begin the next line) */
    site = site ? (const char *)site - 1 : NULL;
    if (!site || !crash_session || session_symbolize(crash_session, site, &name, &off, NULL) != 'f') return;
    put_tb(label);
    int cell = 0;
    compile_part_of(site, &cell);
    if (strcmp(name, "the cell's statements") == 0 && cell != session_count(crash_session)) {
        char line[80];               /* an earlier cell's statements: no line of this cell */
        snprintf(line, sizeof line, "  the statements of cell [%d] + %lu", cell, off);
        put_tb(line);
        return;
    }
    put_frame(name, off, 1);
}

static void send_crash_sites(ck_error e, const char *evalue, const ucontext_t *uc, const char *extra,
                             const void *site, const void *free_site);

static void send_crash(ck_error e, const char *evalue, const ucontext_t *uc, const char *extra,
                       const void *site) {
    send_crash_sites(e, evalue, uc, extra, site, NULL);
}

/* A finding of the %%check memory checker (runtime/checked.c): the frames
 * start at the cell's access (or free), not in abort(). */
static void send_memory_error(const nb_memory_error *m) {
    static ucontext_t at;
    memset(&at, 0, sizeof at);
    at.uc_mcontext.gregs[REG_RIP] = (greg_t)m->pc;
    at.uc_mcontext.gregs[REG_RBP] = (greg_t)m->fp;
    at.uc_mcontext.gregs[REG_RSP] = (greg_t)m->sp;
    send_crash_sites(CK_MEMORY_ERROR, m->text, m->pc ? &at : NULL, NULL, m->alloc_site, m->free_site);
}

static void send_crash_sites(ck_error e, const char *evalue, const ucontext_t *uc, const char *extra,
                             const void *site, const void *free_site) {
    const char *ename = ck_ename(e);
    out_len = 0;
    put("{\"ev\":\"crash\",\"ename\":\"");
    put_json(ename);
    put("\",\"evalue\":\"");
    put_json(evalue);
    put("\",\"traceback\":[\"");
    put_json(ename);
    put(": ");
    put_json(evalue);
    put("\"");
    tb_lines = 1;
    if (extra) put_tb(extra);
    nframes = 0;
    put_site(site_label ? site_label : "The block was allocated at:", site);
    put_site("and freed at:", free_site);
    if (uc) put_backtrace(uc);
    put("],\"frames\":[");
    for (int i = 0; i < nframes; i++) {
        char num[80];
        put(i ? ",[\"" : "[\"");
        put_json(frames[i].name);
        snprintf(num, sizeof num, "\",%lu,%d,%zu]", frames[i].off, frames[i].tb_line, frames[i].head_len);
        put(num);
    }
    put("]}");
    uint32_t len = (uint32_t)out_len;
    char head[IPC_HEADER] = IPC_MAGIC;
    memcpy(head + 4, &len, 4);
    struct iovec iov[2] = { { head, IPC_HEADER }, { out, out_len } };
    (void)writev(guard_fd(GUARD_EVENTS), iov, 2);
}

static void on_fatal(int sig, siginfo_t *si, void *ctx) {
    const ucontext_t *uc = ctx;
    char evalue[512], where[256];
    const char *how = code_words(sig, si->si_code);
    const void *site = NULL;
    if (si->si_code <= 0 && sig != SIGABRT) {
        /* sent by raise() or kill(), not by a fault: no address to blame */
        snprintf(evalue, sizeof evalue, "%s (%s), raised by the program (raise or kill)",
                 signal_words(sig), signal_name(sig));
    } else if (sig == SIGSEGV || sig == SIGBUS) {
        uintptr_t addr = (uintptr_t)si->si_addr;
        int write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
        /* the cell's mprotect did it: say so (first: the access is given
         * back, so that what follows, which may read those pages, works) */
        char took[200] = "";
        if (nb_internal_protect_fault(addr, write, took, sizeof took, &site))
            site_label = "The mprotect call was at:";
        describe_address(addr, where, sizeof where);
        snprintf(evalue, sizeof evalue, "%s (%s): %s of address 0x%lx%s%s%s: %s%s%s",
                 signal_words(sig), signal_name(sig), write ? "write" : "read", (unsigned long)addr,
                 *how ? " (" : "", how, *how ? ")" : "", where, *took ? "; " : "", took);
    } else if (sig == SIGABRT && nb_internal_check_failure()) {
        send_crash(CK_CHECK_FAILED, nb_internal_check_failure(), uc, NULL, NULL);
        raise(sig);
        return;
    } else if (sig == SIGABRT && nb_internal_memory_error()) {
        send_memory_error(nb_internal_memory_error());
        raise(sig);
        return;
    } else if (sig == SIGABRT && nb_internal_heap_damage(NULL)) {
        site_label = nb_internal_heap_damage_label();
        const char *what = nb_internal_heap_damage(&site);
        if (rt_checking) {           /* %%check: the guard bytes found it (code tcc did not instrument) */
            snprintf(evalue, sizeof evalue, "%s: %s", strstr(what, "double free") ? "double free"
                     : "heap buffer overflow", what);
            send_crash(CK_MEMORY_ERROR, evalue, uc, NULL, site);
        } else {
            send_crash(CK_HEAP_CORRUPTION, what, uc, NULL, site);
        }
        raise(sig);
        return;
    } else if (sig == SIGABRT) {
        snprintf(evalue, sizeof evalue, "%s (%s): abort() was called (a failed assert() or nb_check() does that; "
                 "glibc also aborts when it finds the heap corrupted, e.g. after a double free)",
                 signal_words(sig), signal_name(sig));
    } else {
        snprintf(evalue, sizeof evalue, "%s (%s)%s%s", signal_words(sig), signal_name(sig),
                 *how ? ": " : "", how);
    }
    char note[200];
    size_t failed = nb_internal_failed_alloc(0);
    if (failed && crash_memory_mib)
        snprintf(note, sizeof note, "Note: a request for %zu bytes of memory failed in this cell: cells may "
                 "map %lu MiB (%%memory sets it).", failed, crash_memory_mib);
    else if (failed)
        snprintf(note, sizeof note, "Note: a request for %zu bytes of memory failed in this cell.", failed);
    send_crash(CK_CRASH, evalue, uc, failed ? note : NULL, site);
    /* SA_RESETHAND restored the default action: die of the same signal
     * (raised: a fault whose access was given back would not recur) */
    if (sig == SIGABRT || si->si_code <= 0 || site) raise(sig);
}

static void on_alarm(int sig, siginfo_t *si, void *ctx) {
    (void)sig;
    (void)si;
    char evalue[160];
    snprintf(evalue, sizeof evalue, "the cell ran longer than %g s (the %%timeout limit)", crash_timeout);
    send_crash(CK_TIMEOUT_ERROR, evalue, ctx, NULL, NULL);
    signal(SIGKILL, SIG_DFL);
    raise(SIGKILL);
}

void crash_end_cell(ck_error e, const char *evalue) {
    send_crash(e, evalue, NULL, NULL, NULL);
    raise(SIGKILL);
    _exit(137);
}

void crash_install(const session *s) {
    crash_session = s;
    /* mapped, not static: the leak scan reads every static as a root, and
     * 256 KiB of them would be 40% of its reading after every cell */
    size_t altstack_size = 256 * 1024;
    void *altstack = mmap(NULL, altstack_size, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    stack_t ss = { .ss_sp = altstack, .ss_size = altstack_size, .ss_flags = 0 };
    if (altstack != MAP_FAILED) sigaltstack(&ss, NULL);
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS };
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal[i], &sa, NULL);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGALRM, &sa, NULL);
}

void crash_arm_timeout(double seconds) {
    crash_timeout = seconds;
    struct itimerval it = { { 0, 0 }, { (time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6) } };
    if (seconds > 0) setitimer(ITIMER_REAL, &it, NULL);
}

void crash_disarm_timeout(void) {
    struct itimerval it = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &it, NULL);
}
