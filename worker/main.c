/* worker/main.c - the worker process: compiles and runs cells.
 *
 * The kernel starts it with the descriptors described in ipc.h. It owns
 * the session (session.c) and protects it with a snapshot: before each
 * cell it forks a sleeping copy of itself. If the cell ends normally the
 * copy is killed; if the process running the cell dies (a crash, exit(),
 * an interrupt, which the kernel delivers as SIGKILL), the copy wakes up,
 * with the session exactly as it was before that cell, and takes over.
 * The worker never touches ZeroMQ: the kernel speaks Jupyter. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "compile.h"
#include "complete.h"
#include "crash.h"
#include "escape.h"
#include "guard.h"
#include "idle.h"
#include "ipc.h"
#include "jsonmem.h"
#include "leaks.h"
#include "literals.h"
#include "magics.h"
#include "nb_internal.h"
#include "lexer.h"
#include "cc.h"
#include "ceilings.h"
#include "checked.h"
#include "log.h"
#include "monotime.h"
#include "profile.h"
#include "session.h"
#include "sibling.h"

/* One event at a time on the pipe: threads a cell left running may
 * display while the worker sends, and a frame over PIPE_BUF bytes could
 * interleave with another. */
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;

static void send_event_text(const char *json, size_t n) {
    pthread_mutex_lock(&events_lock);
    int rc = ipc_send_text(guard_fd(GUARD_EVENTS), json, n);
    pthread_mutex_unlock(&events_lock);
    if (rc < 0) guard_cut_off(rc);                     /* the kernel is gone, or the pipe */
}

static void send_event(json_t *ev) {
    if (!ev) return;
    pthread_mutex_lock(&events_lock);
    int rc = ipc_send(guard_fd(GUARD_EVENTS), ev);
    pthread_mutex_unlock(&events_lock);
    json_decref(ev);
    if (rc < 0 && rc != -ENOMEM) guard_cut_off(rc);    /* the kernel is gone, or the pipe */
}

static void send_ready(int takeover) {
    send_event(json_pack("{s:s, s:i, s:b}", "ev", "ready", "pid", (int)getpid(),
                         "takeover", takeover));
}

/* The copy, once forked by MIDDLE (0: by sibling_fork, the kernel's child
 * already): sleep until the worker (PIDFD) is gone, whole (other threads
 * of its process, a cell's, may live on a moment), and die with the
 * kernel, whose child it is, from now on. */
static void snapshot_sleep(int pidfd, pid_t worker, pid_t middle) {
    while (middle && getppid() == middle) usleep(50);   /* it exits at once: then the kernel's */
    pid_t kernel = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != kernel) _exit(0);                  /* the kernel is gone already */
    struct pollfd p = { pidfd, POLLIN, 0 };
    while (pidfd >= 0 && poll(&p, 1, -1) < 0 && errno == EINTR) {}
    while (pidfd < 0 && kill(worker, 0) == 0) usleep(1000);   /* no pidfd: ask */
    if (pidfd >= 0) close(pidfd);
}

/* The copy, awake: the worker is gone, and it takes over. */
static void snapshot_take_over(pid_t worker) {
    compile_after_fork();
    cc_clean_after((int)worker);          /* a compiler's files, if it died compiling */
    jsonmem_after_fork();
    pthread_mutex_init(&events_lock, NULL);   /* its holder may not have come along */
}

/* The copy as the worker's grandchild: a middle process forks it, says
 * its pid on a pipe and exits. Where sibling_fork cannot be used. */
static pid_t fork_twice(pid_t worker, int pidfd) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) return 0;
    pid_t middle = fork();
    if (middle == 0) {                                  /* the parent of the copy: */
        close(pipefd[0]);
        pid_t middle_pid = getpid();
        pid_t copy = fork();
        if (copy != 0) {                                /* says its pid, and goes */
            if (copy > 0) setpgid(copy, copy);          /* before the cell runs: no race */
            (void)!write(pipefd[1], &copy, sizeof copy);
            _exit(0);
        }
        close(pipefd[1]);
        setpgid(0, 0);                    /* a cell's kill(0, sig) spares it, as a program's would */
        snapshot_sleep(pidfd, worker, middle_pid);
        snapshot_take_over(worker);
        return -1;
    }
    close(pipefd[1]);
    pid_t copy = 0;
    if (middle > 0) {
        while (read(pipefd[0], &copy, sizeof copy) < 0 && errno == EINTR) {}
        while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
    }
    close(pipefd[0]);
    return copy > 0 ? copy : 0;
}

/* Fork the sleeping copy. Returns its pid in the worker, 0 when no copy
 * could be made, and -1 in the copy once it has taken over.
 *
 * The copy is the kernel's child (the kernel is a subreaper), never the
 * worker's: a cell's `while (wait(NULL) > 0)` then reaps the cell's own
 * children and ends, as in a program, instead of waiting for the snapshot
 * forever. One clone(CLONE_PARENT) makes it (sibling.c), else a middle
 * process that exits at once. It learns of the worker's death through a
 * pidfd of the worker. */
static pid_t fork_snapshot(void) {
    pid_t worker = getpid();
    int pidfd = (int)syscall(SYS_pidfd_open, worker, 0);     /* close-on-exec */
    pid_t copy = sibling_fork();
    if (copy == 0) {
        setpgid(0, 0);                    /* a cell's kill(0, sig) spares it (guard_set_snapshot waits) */
        snapshot_sleep(pidfd, worker, 0);
        snapshot_take_over(worker);
        return -1;
    }
    if (copy < 0) copy = fork_twice(worker, pidfd);     /* -1 there: the copy, awake */
    if (pidfd >= 0 && copy >= 0) close(pidfd);
    if (copy < 0) return -1;
    if (copy == 0) log_warn("no snapshot (fork: %s): a crash will lose the session", strerror(errno));
    return copy;
}

/* The memory limit (%memory) counts what cells may map beyond what the
 * worker maps already (its reserved compiler and code regions among it):
 * RLIMIT_AS becomes the current size plus BYTES. */
static int set_memory_limit(rlim_t bytes) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) < 0) return -1;
    rlim_t now = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f && fscanf(f, "%lu", &pages) == 1) now = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
    if (f) fclose(f);
    rl.rlim_cur = bytes == RLIM_INFINITY ? rl.rlim_max : now + bytes;
    crash_set_memory_limit(bytes == RLIM_INFINITY ? 0 : (unsigned long)(bytes >> 20));
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
    return setrlimit(RLIMIT_AS, &rl);
}

/* A runaway allocation loop should fail, not make the machine swap: by
 * default cells may map half of the machine's memory. */
static void set_default_memory_limit(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0) set_memory_limit(ceilings_memory_default((rlim_t)pages * (rlim_t)size / 2));
}

/* ---------------------------------------------------------------- stdin
 *
 * A cell's stdin asks the kernel for each line: an input_request event,
 * answered by {"op":"input_reply","value":STR} or {"eof":true} (the client
 * does not allow input, e.g. nbconvert): then reads see end of file at
 * once. Only the stdin FILE is wired: read(0, ...) sees /dev/null. */

static struct { char *buf; size_t len, off; } pending;

static ssize_t stdin_read(void *cookie, char *buf, size_t size) {
    (void)cookie;
    if (pending.off == pending.len) {
        fflush(stdout);                  /* the prompt the cell printed */
        fflush(stderr);
        send_event(json_pack("{s:s, s:s, s:b}", "ev", "input_request", "prompt", "", "password", 0));
        json_t *rep;
        for (;;) {
            rep = ipc_recv(guard_fd(GUARD_REQUESTS));
            if (!rep) _exit(0);
            const char *op = json_string_value(json_object_get(rep, "op"));
            if (op && strcmp(op, "input_reply") == 0) break;
            if (op && strcmp(op, "shutdown") == 0) _exit(0);
            json_decref(rep);            /* nothing else is asked of a busy worker */
        }
        const char *value = json_string_value(json_object_get(rep, "value"));
        int eof = json_is_true(json_object_get(rep, "eof")) || !value;
        free(pending.buf);
        pending.buf = NULL;
        pending.len = pending.off = 0;
        if (!eof && asprintf(&pending.buf, "%s\n", value) >= 0) pending.len = strlen(pending.buf);
        json_decref(rep);
        if (eof) return 0;
    }
    size_t n = pending.len - pending.off;
    if (n > size) n = size;
    memcpy(buf, pending.buf + pending.off, n);
    pending.off += n;
    return (ssize_t)n;
}

static void stdin_install(void) {
    cookie_io_functions_t io = { .read = stdin_read };
    FILE *f = fopencookie(NULL, "r", io);
    if (f) stdin = f;
}

/* A cell may close fd 0, 1 or 2; later cells must still reach the kernel.
 * The copies guard.c keeps put them back if they are gone. */
static void output_restore(void) {
    guard_recover();                     /* the pipes to the kernel, if the cell closed them */
    int out = fcntl(1, F_GETFD) < 0 ? guard_fd(GUARD_STDOUT) : -1;
    int err = fcntl(2, F_GETFD) < 0 ? guard_fd(GUARD_STDERR) : -1;
    if (out >= 0) { dup2(out, 1); clearerr(stdout); }
    if (err >= 0) { dup2(err, 2); clearerr(stderr); }
    if (fcntl(0, F_GETFD) < 0) open("/dev/null", O_RDONLY);   /* gets 0: read(0) as before */
}

/* Cells' output streams while they run (line buffered). The buffer is the
 * worker's own: glibc would malloc it at the first printf, inside a cell,
 * and that one live block of the cell's would make every later cell's leak
 * scan read all the roots (0.1-0.3 ms a cell) to find it still reachable. */
static void stdout_buffer(void) {
    static char buf[BUFSIZ];
    setvbuf(stdout, buf, _IOLBF, sizeof buf);
}

/* What one cell typed and did not read is not the next cell's input. */
static void stdin_reset(void) {
    __fpurge(stdin);
    clearerr(stdin);
    pending.off = pending.len;
}

static double cell_timeout;          /* %timeout, seconds; 0: none */
static measure_level measure_mode = MEASURE_ON;   /* %measure */
static long output_limit = 10L << 20; /* %output, bytes a cell may print; 0: none */

/* ------------------------------------------------- the runtime's hooks */

/* Displays from the runtime (nb_display_*, pictures, progress bars) go to
 * the kernel on the event pipe, never mixed into stdout. */
static void on_display(void *opaque, const nb_display *d) {
    (void)opaque;
    json_t *ev;
    if (d->kind == NB_DISPLAY_CLEAR) {
        ev = json_pack("{s:s, s:b}", "ev", "clear_output", "wait", d->wait);
    } else {
        json_t *data = json_object();
        for (int i = 0; i < d->n; i++) {
            json_t *v = NULL;
            if (strcmp(d->mime[i], "application/json") == 0) v = json_loads(d->data[i], 0, NULL);
            if (!v) v = json_string(d->data[i]);
            if (v) json_object_set_new(data, d->mime[i], v);
        }
        ev = json_pack("{s:s, s:o}", "ev", d->kind == NB_DISPLAY_UPDATE ? "update_display" : "display",
                       "data", data);
        if (d->display_id) json_object_set_new(ev, "display_id", json_string(d->display_id));
    }
    send_event(ev);
}

/* What the cells defined at ADDR: the part (code, data, bss, literals)
 * from the unit's sections, the name from the session's symbols. */
static int symbolize(void *opaque, const void *addr, char *name, size_t n, int *kind,
                     const void **start, size_t *size) {
    int cell = 0;
    compile_part part = compile_part_of(addr, &cell);
    int in_data = part == COMPILE_DATA || part == COMPILE_BSS;
    int data_kind = part == COMPILE_BSS ? NB_SYM_BSS : NB_SYM_DATA;
    *start = addr;
    *size = 0;
    const char *nm;
    unsigned long off, sz;
    int k = session_symbolize(opaque, addr, &nm, &off, &sz);
    if (part == COMPILE_LITERAL) {           /* read-only: a literal, or a const object */
        if (k == 'g') {
            snprintf(name, n, "%s (const)", nm);
            *start = (const char *)addr - off;
            *size = sz;
        } else {
            snprintf(name, n, "a string literal (or other constant) of cell %d", cell);
        }
        *kind = NB_SYM_RODATA;
        return 1;
    }
    if (k && !(in_data && k == 'f')) {
        snprintf(name, n, "%s", nm);
        if (strcmp(nm, "the cell's statements") == 0 && cell != session_count(opaque))
            snprintf(name, n, "the statements of cell [%d]", cell);   /* an earlier cell's */
        /* a session's global may sit in bss only because its initializer
         * runs with the cell's statements: no bss/data split for names */
        *kind = k == 'g' ? NB_SYM_DATA : NB_SYM_FUNCTION;
        *start = (const char *)addr - off;
        *size = sz;
        return 1;
    }
    if (in_data) {
        const char *st;
        const char *global;
        if (compile_static_of(addr, &st, start, &sz) && literals_is_object(st, &global)) {
            snprintf(name, n, "a compound literal in the initializer of %s (static, cell %d)", global, cell);
            *size = sz;
        } else if (compile_static_of(addr, &st, start, &sz)) {
            snprintf(name, n, "%s (a static of cell %d)", st, cell);
            *size = sz;
        } else {
            snprintf(name, n, "a static variable of cell %d", cell);
        }
        *kind = data_kind;
        return 1;
    }
    if (part == COMPILE_CODE || part == COMPILE_STUBS) {
        snprintf(name, n, part == COMPILE_CODE ? "code of cell %d" : "the call stubs of cell %d", cell);
        *kind = NB_SYM_FUNCTION;
        *size = 1;                   /* known: not "the nearest function below" */
        return 1;
    }
    if (part == COMPILE_UNKNOWN) {   /* past a %%cc cell's code: its object is one block */
        snprintf(name, n, "a constant or static of %%%%cc cell %d (writable)", cell);
        *kind = NB_SYM_DATA;
        return 1;
    }
    return 0;
}

static json_t *measure_json(const nb_measure *m) {
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "compile_ns", (json_int_t)m->compile_ns, "run_ns", (json_int_t)m->run_ns,
                     "cpu_ns", (json_int_t)m->cpu_ns, "allocs", (json_int_t)m->allocs,
                     "frees", (json_int_t)m->frees, "alloc_bytes", (json_int_t)m->alloc_bytes,
                     "libc_allocs", (json_int_t)m->libc_allocs, "libc_alloc_bytes", (json_int_t)m->libc_alloc_bytes,
                     "libc_frees", (json_int_t)m->libc_frees,
                     "live_delta_bytes", (json_int_t)m->live_delta_bytes,
                     "peak_live_bytes", (json_int_t)m->peak_live_bytes,
                     "stack_peak_bytes", (json_int_t)m->stack_peak_bytes,
                     "minor_faults", (json_int_t)m->minor_faults,
                     "major_faults", (json_int_t)m->major_faults);
}

/* The leak figures (when the scan ran) into MJ, the list into DONE, and
 * the list under the measurement line (TEXT, HTML). */
static void add_leaks(session *s, const magics *m, int count, const nb_measure *me, json_t *mj, json_t *done,
                      char *text, size_t tn, char *html, size_t hn) {
    if (me->leaks_checked <= 0) return;
    json_object_set_new(mj, "leaked_blocks", json_integer((json_int_t)me->leaked_blocks));
    json_object_set_new(mj, "leaked_bytes", json_integer((json_int_t)me->leaked_bytes));
    char *lt = NULL, *lh = NULL;
    json_t *list = leaks_report(s, m->code, m->cflags, count, me, &lt, &lh);
    json_object_set_new(done, "leaks", list ? list : json_array());
    size_t l = strlen(text);
    if (lt) snprintf(text + l, tn - l, "\n%s", lt);
    l = strlen(html);
    if (lh && l > 6 && strcmp(html + l - 6, "</div>") == 0) snprintf(html + l - 6, hn - l + 6, "<br>%s</div>", lh);
    free(lt);
    free(lh);
}

/* Do what the cell's magics say. 0 to go on and compile M->code, 1 when
 * the cell is done (R says how), -1 on an error in R. */
static int apply_magics(session *s, magics *m, session_result *r) {
    if (m->help) fputs(magics_help(), stdout);
    if (m->file) {
        FILE *f = fopen(m->file, "w");
        if (!f || fputs(m->code, f) < 0 || fclose(f) != 0) {
            char *e = NULL;
            if (asprintf(&e, "cannot write %s: %s", m->file, strerror(errno)) < 0) e = NULL;
            session_result_error(r, CK_OS_ERROR, e ? e : "cannot write the file", NULL);
            free(e);
            return -1;
        }
        printf("Wrote %zu bytes to %s\n", strlen(m->code), m->file);
        return 1;
    }
    if (m->reset) {
        session_reset(s);
        puts("The session was reset: every definition is forgotten.");
    }
    if (m->session_cflags) session_set_options(s, m->session_cflags);
    for (size_t i = 0; m->libs && m->libs[i]; i++) {
        char *err = NULL;
        if (session_add_library(s, m->libs[i], &err) < 0) {
            session_result_error(r, CK_LINK_ERROR, err ? err : "library not found", NULL);
            free(err);
            return -1;
        }
    }
    const char *over = ceilings_check(m);
    if (over || ceilings_apply(m) < 0) {
        session_result_error(r, CK_LIMIT_ERROR, over ? over : "cannot set the process limit", NULL);
        return -1;
    }
    if (m->memory_mib >= 0 && set_memory_limit(m->memory_mib > 0 ? (rlim_t)m->memory_mib << 20 : RLIM_INFINITY) < 0) {
        session_result_error(r, CK_MAGIC_ERROR, "cannot set the memory limit", NULL);
        return -1;
    }
    if (m->timeout >= 0) cell_timeout = m->timeout;
    if (m->output_mib >= 0) output_limit = m->output_mib << 20;
    if (m->measure != MEASURE_UNCHANGED) measure_mode = m->measure;
    if (m->leaks >= 0) leaks_enable(m->leaks);
    if (m->who) session_who(s, stdout);
    if (m->asm_name) session_asm(s, m->asm_name);
    return 0;
}

/* %escape, %%escape: the analysis's table goes out before anything the
 * cell prints. Whether the cell is to be compiled and run after it. */
static int escape_cell(session *s, const magics *m, session_result *r, escape_result *er) {
    if (escape_run(s, m->code, m->cflags, er) == 0) {
        send_event(json_pack("{s:s, s:O}", "ev", "display", "data", er->display));
    } else if (m->escape == 2) {
        session_result_error(r, CK_ESCAPE_ERROR, er->error, NULL);
    } else {
        fprintf(stderr, "%s: %s\n", ck_ename(CK_ESCAPE_ERROR), er->error);
        fflush(stderr);
    }
    return m->escape == 1;
}

/* The facts on the done event (metadata.ckernel.escape) and the
 * analyser's timers beside the others. */
static void escape_done(json_t *done, const escape_result *er) {
    json_object_set(done, "escape", er->facts);
    json_t *timing = json_object_get(done, "timing");
    json_object_set_new(timing, "escape_parse_ms", json_real(er->parse_ms));
    json_object_set_new(timing, "escape_analysis_ms", json_real(er->analysis_ms));
    json_object_set_new(timing, "escape_parse_cpu_ms", json_real(er->parse_cpu_ms));
    json_object_set_new(timing, "escape_analysis_cpu_ms", json_real(er->analysis_cpu_ms));
}

/* The snapshot forked after the last cell's reply went out, waiting for the
 * next cell (0: none). Forking it while the kernel and the client handle
 * that reply takes the fork off the next cell's path. */
static pid_t next_snapshot;

/* Kill the waiting snapshot (a copy it would be wrong to go back to). */
static void discard_next_snapshot(void) {
    if (next_snapshot <= 0) return;
    kill(next_snapshot, SIGKILL);           /* the kernel's child: it reaps it */
    next_snapshot = 0;
}

/* Fork the snapshot (or take the one forked ahead), tell the kernel which
 * process runs the cell, and arm the %timeout. The snapshot's pid, 0
 * without one, or -1 in the snapshot once it has taken over. */
static pid_t start_cell(uint64_t *snapshot_ns, uint64_t *started_ns) {
    fflush(NULL);                         /* nothing buffered may be copied */
    uint64_t t0 = monotime_ns();
    pid_t snap = next_snapshot ? next_snapshot : fork_snapshot();
    next_snapshot = 0;
    *snapshot_ns = monotime_ns() - t0;
    if (snap < 0) return -1;
    guard_set_snapshot(snap);             /* it holds copies of the pipes */
    /* by hand: every page written after the fork costs a fault */
    char started[200];
    int n = snprintf(started, sizeof started, "{\"ev\":\"started\",\"pid\":%d,\"snapshot\":%d,"
                     "\"output_limit\":%lld,\"cpu_limit\":%g}", (int)getpid(), (int)snap,
                     (long long)output_limit, ceilings_cell_cpu());
    send_event_text(started, (size_t)n);
    *started_ns = monotime_ns() - t0 - *snapshot_ns;
    crash_arm_timeout(cell_timeout);
    return snap;
}

/* What serving a request leaves to main's loop: nothing; nothing, and REQ
 * is gone (a snapshot took over: it was in jsonmem's region); stop. */
enum { SERVED, REQ_GONE, SHUT_DOWN };
typedef int (*request_fn)(session *s, json_t *req);

/* Where a cell's time went (the "timing" of ipc.h's done event), in ns. */
typedef struct { uint64_t snapshot, after_fork, prepare, cell, finished_at; } cell_timing;

/* %measure verbose's perf counters; hardware ones null where there are none. */
static json_t *counters_json(const nb_counters *c) {
    if (!c->measured) return json_null();
    json_t *hw = !c->hardware ? json_null()
        : json_pack("{s:I, s:I, s:I, s:I}", "cycles", (json_int_t)c->cycles,
                    "instructions", (json_int_t)c->instructions, "cache_misses", (json_int_t)c->cache_misses,
                    "branch_misses", (json_int_t)c->branch_misses);
    return json_pack("{s:I, s:I, s:I, s:o}", "task_clock_ns", (json_int_t)c->task_clock_ns,
                     "context_switches", (json_int_t)c->context_switches,
                     "page_faults", (json_int_t)c->page_faults, "hardware", hw);
}

/* A %%profile's displays go out as the cell's own do. */
static void send_display_data(json_t *data) {
    send_event(json_pack("{s:s, s:o}", "ev", "display", "data", data));
}

/* The done event (ipc.h) for cell M (execution COUNT) of S that ended as R says. */
static json_t *done_event(session *s, const magics *m, int count, session_result *r, const cell_timing *t) {
    json_t *done = json_pack("{s:s, s:s}", "ev", "done", "status", r->ok ? "ok" : "error");
    json_object_set_new(done, "result", r->result_text
                        ? json_pack("{s:s}", "text/plain", r->result_text) : json_null());
    if (r->main_ran) json_object_set_new(done, "main_status", json_integer(r->main_status));
    if (r->measured) {
        json_t *mj = measure_json(&r->measure);
        if (measure_mode == MEASURE_VERBOSE) {
            json_object_set_new(mj, "rss_bytes", json_integer((json_int_t)r->measure.rss_bytes));
            json_object_set_new(mj, "max_rss_bytes", json_integer((json_int_t)r->measure.max_rss_bytes));
            json_object_set_new(mj, "counters", counters_json(&r->measure.counters));
        }
        json_object_set_new(done, "measure", mj);
        char text[2048] = "", html[12288] = "";
        if (measure_mode != MEASURE_OFF) {
            r->measure.main_ran = r->main_ran;
            r->measure.main_status = r->main_status;
            snprintf(r->measure.compiler, sizeof r->measure.compiler, "%s", r->compiler ? r->compiler : "");
            nb_internal_format_measure(&r->measure, measure_mode == MEASURE_VERBOSE, text, sizeof text,
                                       html, sizeof html);
        }
        add_leaks(s, m, count, &r->measure, mj, done, text, sizeof text, html, sizeof html);
        if (measure_mode != MEASURE_OFF)
            json_object_set_new(done, "measure_line", json_pack("{s:s, s:s}", "text/plain", text, "text/html", html));
    }
    json_object_set_new(done, "timing", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
                        "snapshot_ns", (json_int_t)t->snapshot, "compile_ns", (json_int_t)r->compile_ns,
                        "run_ns", (json_int_t)r->run_ns, "prepare_ns", (json_int_t)t->prepare,
                        "after_fork_ns", (json_int_t)t->after_fork, "cell_ns", (json_int_t)t->cell,
                        "reply_ns", (json_int_t)(monotime_ns() - t->finished_at), "compiles", r->compiles));
    json_object_set_new(json_object_get(done, "timing"), "leaks_ns", json_integer((json_int_t)r->measure.leak_scan_ns));
    if (r->compiler) json_object_set_new(json_object_get(done, "timing"), "compiler", json_string(r->compiler));
    if (!r->ok) {
        json_t *tb = json_array();
        for (size_t i = 0; i < r->ntraceback; i++) json_array_append_new(tb, json_string(r->traceback[i]));
        json_object_set_new(done, "ename", json_string(r->ename));
        json_object_set_new(done, "evalue", json_string(r->evalue));
        json_object_set_new(done, "traceback", tb);
    }
    char *diag = NULL;
    if ((r->diagnostics || r->notices) &&
        asprintf(&diag, "%s%s", r->diagnostics ? r->diagnostics : "", r->notices ? r->notices : "") < 0)
        diag = NULL;
    json_object_set_new(done, "diagnostics", diag ? json_string(diag) : json_null());
    free(diag);
    return done;
}

/* argv for a main() the cell defines: argv[0] is the program's name, %args
 * gives argv[1..]. ARGV0 has room for 64. */
static void set_cell_args(char **args, char **argv0) {
    if (!args) return;
    size_t n = 0;
    argv0[n++] = "cell";
    for (size_t i = 0; args[i] && n < 63; i++) argv0[n++] = args[i];
    argv0[n] = NULL;
    nb_internal_set_args(argv0);
}

/* Run the prepared cell PC (under the memory checker if CHECKED); its
 * time in *NS. */
static void run_cell(session *s, session_cell *pc, session_result *r, int checked, uint64_t *ns) {
    uint64_t t0 = monotime_ns();
    nb_internal_failed_alloc(1);
    pid_t me = getpid();
    ceilings_cell_begin();
    if (checked) nb_internal_checked_begin();          /* %%check: runtime/checked.c */
    session_commit_run(s, pc, r);
    if (checked) nb_internal_checked_end();
    ceilings_cell_end();
    if (getpid() != me) {             /* a child the cell forked ran off its end: */
        fflush(NULL);                 /* it ends as a program's would, and never */
        _exit(0);                     /* serves the kernel's requests */
    }
    fflush(stdout);
    fflush(stderr);
    *ns = monotime_ns() - t0;
}

/* Serve an execute request. REQ_GONE in a snapshot that took over after
 * the cell's process died, else SERVED. */
static int execute(session *s, json_t *req) {
    const char *code = json_string_value(json_object_get(req, "code"));
    session_result r;
    memset(&r, 0, sizeof r);
    r.ok = 1;
    magics m;
    session_cell *pc = NULL;
    int rc = -1;
    cc_spec cc = {0};
    char *cc_error = NULL;
    int parsed = magics_parse(code ? code : "", &m);
    if (next_snapshot && (parsed < 0 || strcmp(m.code, code ? code : ""))) {
        /* magics change the worker before the cell runs, and a rollback
         * keeps what they did: this cell's snapshot is forked after them */
        discard_next_snapshot();
    }
    if (parsed < 0) {
        session_result_error(&r, CK_MAGIC_ERROR, m.error, NULL);
    } else if (m.cc && cc_parse(m.cc, &cc, &cc_error) < 0) {
        session_result_error(&r, CK_MAGIC_ERROR, cc_error, NULL);
    } else {
        rc = apply_magics(s, &m, &r);
        fflush(stdout);
    }
    free(cc_error);
    cell_timing t = { 0 };
    char *argv0[64];
    set_cell_args(m.args, argv0);
    /* The snapshot comes before the compile: an interrupt, a %timeout or
     * a crash while compiling (libtcc can hang: #pragma comment(option))
     * then costs the cell and nothing else. */
    int count = (int)json_integer_value(json_object_get(req, "count"));
    pid_t snap = rc == 0 ? start_cell(&t.snapshot, &t.after_fork) : 0;
    if (snap < 0) {                       /* we are the copy, and the cell died */
        profile_after_crash(s, &m, count, send_display_data);
        send_ready(1);
        session_result_free(&r);
        return REQ_GONE;
    }
    escape_result er = {0};
    if (rc == 0) session_set_count(s, (int)json_integer_value(json_object_get(req, "count")));
    if (rc == 0 && m.escape && !escape_cell(s, &m, &r, &er)) rc = 1;
    if (rc == 0) {
        t.prepare = monotime_ns();
        session_set_count(s, count);
        profile_cell(s, &m, count);
        session_set_cc(s, cc.compiler ? &cc : NULL);     /* until done_event: leak sites' lines */
        pc = session_prepare(s, m.code, m.cflags, &r);
        t.prepare = monotime_ns() - t.prepare;
    }
    if (pc) {
        nb_internal_counters_want(measure_mode == MEASURE_VERBOSE);
        profile_begin(&m, count);
        run_cell(s, pc, &r, m.check, &t.cell);
        profile_end(&m);
    }
    crash_disarm_timeout();
    t.finished_at = monotime_ns();
    nb_internal_set_args(NULL);
    stdin_reset();
    output_restore();
    json_t *profile_md = pc ? profile_finish(s, &m, count, send_display_data) : NULL;
    json_t *done = done_event(s, &m, count, &r, &t);
    session_set_cc(s, NULL);
    if (profile_md) json_object_update(done, profile_md);
    json_decref(profile_md);
    magics_free(&m);
    if (er.facts) escape_done(done, &er);
    escape_result_free(&er);
    cc_spec_free(&cc);
    session_result_free(&r);
    if (snap > 0) kill(snap, SIGKILL);      /* the cell is done: commit (the kernel reaps it) */
    discard_next_snapshot();                /* (a cell that never started left it) */
    send_event(done);
    return SERVED;                          /* the kernel's "snapshot" forks the next one */
}

/* {"op":"snapshot"}: fork the next cell's snapshot ahead of it, while the
 * last cell's reply travels. The kernel asks once the reply and idle are
 * queued: forked right after "done", the copy competed with the kernel's
 * publishing for the two CPUs (issue 18). */
static int prefork(session *s, json_t *req) {
    (void)s;
    (void)req;
    if (next_snapshot) return SERVED;
    fflush(NULL);
    next_snapshot = fork_snapshot();
    if (next_snapshot > 0) guard_note_snapshot(next_snapshot);
    if (next_snapshot < 0) {                /* we are it, and the next cell died */
        next_snapshot = 0;
        send_ready(1);
        return REQ_GONE;
    }
    return SERVED;
}

/* ------------------------------------------------ completion, inspection */

static int complete(session *s, json_t *req) {
    const char *code = json_string_value(json_object_get(req, "code"));
    if (!code) code = "";
    size_t cursor = lexer_byte_offset(code, (size_t)json_integer_value(json_object_get(req, "cursor_pos")));
    completion c;
    complete_at(s, code, cursor, &c);
    json_t *m = json_array();
    for (size_t i = 0; i < c.n; i++) json_array_append_new(m, json_string(c.matches[i]));
    send_event(json_pack("{s:s, s:o, s:I, s:I}", "ev", "complete_reply", "matches", m,
                         "cursor_start", (json_int_t)lexer_code_points(code, c.start),
                         "cursor_end", (json_int_t)lexer_code_points(code, c.end)));
    complete_free(&c);
    return SERVED;
}

static int inspect(session *s, json_t *req) {
    const char *code = json_string_value(json_object_get(req, "code"));
    if (!code) code = "";
    size_t cursor = lexer_byte_offset(code, (size_t)json_integer_value(json_object_get(req, "cursor_pos")));
    char *text = complete_inspect_at(s, code, cursor);
    json_t *ev = json_pack("{s:s, s:b}", "ev", "inspect_reply", "found", text != NULL);
    json_object_set_new(ev, "data", text ? json_pack("{s:s}", "text/plain", text) : json_object());
    free(text);
    send_event(ev);
    return SERVED;
}

/* {"op":"lines","code":STR,"frames":[[NAME,OFFSET],...]}: the cell lines
 * of a crashed cell's frames (see session_lines), and for each the earlier
 * cell it is a line of (0: this cell). */
static int lines(session *s, json_t *req) {
    const char *code = json_string_value(json_object_get(req, "code"));
    json_t *frames = json_object_get(req, "frames");
    size_t n = json_array_size(frames);
    const char **names = calloc(n + 1, sizeof *names);
    unsigned long *offsets = calloc(n + 1, sizeof *offsets);
    int *found = calloc(n + 1, sizeof *found), *cells = calloc(n + 1, sizeof *cells);
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(frames, i);
        names[i] = json_string_value(json_array_get(f, 0));
        if (!names[i]) names[i] = "";
        offsets[i] = (unsigned long)json_integer_value(json_array_get(f, 1));
    }
    magics m;
    memset(&m, 0, sizeof m);
    json_t *out = json_array(), *in_cells = json_array();
    cc_spec cc = {0};
    char *cc_error = NULL;
    if (code && magics_parse(code, &m) == 0 && (!m.cc || cc_parse(m.cc, &cc, &cc_error) == 0)) {
        session_set_cc(s, cc.compiler ? &cc : NULL);
        if (session_lines(s, m.code, m.cflags, names, offsets, 0, found, cells, n) == 0)
            for (size_t i = 0; i < n; i++) {
                json_array_append_new(out, json_integer(found[i]));
                json_array_append_new(in_cells, json_integer(cells[i]));
            }
        session_set_cc(s, NULL);
    }
    free(cc_error);
    cc_spec_free(&cc);
    magics_free(&m);
    send_event(json_pack("{s:s, s:o, s:o}", "ev", "lines_reply", "lines", out, "cells", in_cells));
    free(names);
    free(offsets);
    free(found);
    free(cells);
    return SERVED;
}

/* ------------------------------------------------------------ requests */

/* An answer to input_request that came after its cell ended: nobody
 * waits for it. */
static int late_input_reply(session *s, json_t *req) {
    (void)s;
    (void)req;
    return SERVED;
}

static int shut_down(session *s, json_t *req) {
    (void)s;
    (void)req;
    discard_next_snapshot();             /* else it would take over */
    return SHUT_DOWN;
}

/* The kernel's requests (common/ipc.h), one row each; kernel/worker.c
 * sends them. */
static const struct { const char *op; request_fn fn; } requests[] = {
    { "execute",     execute },
    { "complete",    complete },
    { "inspect",     inspect },
    { "lines",       lines },
    { "input_reply", late_input_reply },
    { "shutdown",    shut_down },
    { "snapshot",    prefork },
};

static request_fn request_for(const char *op) {
    for (size_t i = 0; op && i < sizeof requests / sizeof *requests; i++)
        if (!strcmp(requests[i].op, op)) return requests[i].fn;
    return NULL;
}

/* Cells run as programs started from a shell do: every signal at its
 * default and none blocked, whatever the kernel's launcher left ignored
 * (nohup, or `cmd &` in a script, ignore SIGHUP, SIGINT and SIGQUIT, and
 * exec keeps what is ignored). The worker's own handlers come after. */
static void default_signals(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);   /* glibc's own: EINVAL */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int main(void) {
    default_signals();
    log_set_role("ckernel-worker");
    setpgid(0, 0);                       /* the kernel kills the whole group */
    pid_t kernel = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != kernel) return 0;
    guard_install();                     /* before any thread: the filter, the pipes moved */
    stdout_buffer();

    jsonmem_install();
    compile_reserve();
    ceilings_init();
    set_default_memory_limit();
    output_limit = ceilings_output_default(output_limit);
    session *s = session_new();
    crash_install(s);
    profile_install(s);
    nb_internal_set_sink(on_display, NULL);
    nb_internal_set_symbolizer(symbolize, s);
    stdin_install();
    send_ready(0);
    for (;;) {
        idle_wait(guard_fd(GUARD_REQUESTS));   /* idle: the compiler's memory goes back */
        json_t *req = ipc_recv(guard_fd(GUARD_REQUESTS));
        if (!req) {                      /* the kernel closed the pipe */
            discard_next_snapshot();
            return 0;
        }
        jsonmem_request_begin();
        const char *op = json_string_value(json_object_get(req, "op"));
        request_fn fn = request_for(op);
        if (!fn) log_warn("unknown request '%s'", op ? op : "(none)");
        int rc = fn ? fn(s, req) : SERVED;
        if (rc == REQ_GONE) continue;     /* a snapshot took over: REQ is gone with its memory */
        json_decref(req);
        if (rc == SHUT_DOWN) return 0;
    }
}
