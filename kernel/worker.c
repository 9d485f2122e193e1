/* worker.c - spawns, supervises and talks to the worker process.
 *
 * Owns the kernel's side of ipc.h: the worker's pipes (fds 1-4), its
 * process group, reaping (the kernel is a child subreaper, so snapshots and
 * orphans of cells come back to it), crash recovery and interrupts. It
 * knows nothing of Jupyter messages: handlers.c gets streams and the end of
 * each cell through worker_hooks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "channels.h"
#include "errors.h"
#include "guard_notify.h"
#include "ipc.h"
#include "log.h"
#include "monotime.h"
#include "wire.h"
#include "worker.h"

#define READ_CHUNK     65536          /* one read() of cell output */
#define LINES_TIMEOUT_MS 1500           /* a crashed cell's lines: one more compile */
#define CC_LINES_TIMEOUT_MS 20000       /* ... by gcc or clang (%%cc), on a busy machine */
#define TURN_MAX       (1u << 20)     /* output forwarded per stream per loop turn */
#define START_TIMEOUT_MS    10000
#define TAKEOVER_TIMEOUT_MS 3000
#define CPU_GRACE_S    2.0            /* past the CPU limit before the kernel steps in */

enum { OUT, ERR };
static const char *const stream_names[] = { "stdout", "stderr" };

static struct {
    worker_hooks hooks;
    pid_t pid;              /* the worker: the process that takes requests */
    pid_t pgid;             /* its process group: snapshots and cell children too */
    int req_fd, ev_fd, out_fd[2];
    ipc_reader ev;
    char held[2][4];        /* an incomplete UTF-8 sequence left by the last read */
    size_t n_held[2];
    char *buf;              /* TURN_MAX + 4 bytes for reading output */
    /* the running cell */
    int running;
    pid_t run_pid;          /* from "started" (the worker until then) */
    pid_t snapshot;         /* from "started": takes over if run_pid dies */
    int started;            /* "started" has come */
    int interrupt_pending;  /* interrupted before "started": kill on it */
    int interrupted;
    int took_over;          /* the snapshot's "ready" came */
    long long out_limit;    /* bytes of output to forward (%output; 0: all) */
    double cpu_limit;       /* CPU seconds the cell may use (0: no limit) */
    double cpu_start;       /* the running process's CPU seconds at "started" */
    long long out_sent;     /* forwarded so far */
    int out_cut;            /* output was dropped, and the note said so */
    json_t *crash;          /* the error to end the cell with, once recovered */
    json_t *last_words;     /* the dying process's own "crash" event, if it sent one */
    json_t *frames;         /* its cell frames, [[name, offset]...], for their lines */
    char *code;             /* the running cell, to find those lines in */
    int stopping;
} W = { .req_fd = -1, .ev_fd = -1, .out_fd = { -1, -1 } };

static void on_output_fd(int fd, void *ud);
static void on_event_fd(int fd, void *ud);
static void handle_event(json_t *ev);

int worker_init(const worker_hooks *hooks) {
    W.hooks = *hooks;
    ipc_reader_init(&W.ev);
    W.buf = malloc(TURN_MAX + 4);
    if (!W.buf) return -1;
    /* Snapshots the worker forks must come back to us when their parent
     * dies, so that one can take over (ipc.h). */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        log_error("prctl(PR_SET_CHILD_SUBREAPER): %m");
        return -1;
    }
    /* Not dumpable: a cell (the same user) cannot open /proc/KERNEL/mem,
     * attach ptrace or read the kernel's memory; the worker's seccomp
     * filter (worker/guard_filter.c) covers signals and root's ways in. */
    if (prctl(PR_SET_DUMPABLE, 0) < 0) log_warn("prctl(PR_SET_DUMPABLE): %m");
    return 0;
}

int worker_busy(void) { return W.running; }

/* ---------------------------------------------------------------- output */

/* Read what one output pipe holds now (up to TURN_MAX) and hand it on as
 * one piece of valid UTF-8. Returns the bytes read; closes the pipe at end
 * of file. */
static size_t read_output(int which) {
    int fd = W.out_fd[which];
    if (fd < 0) return 0;
    size_t len = W.n_held[which], got = 0;
    memcpy(W.buf, W.held[which], len);
    int eof = 0;
    while (len < TURN_MAX) {
        size_t want = TURN_MAX - len < READ_CHUNK ? TURN_MAX - len : READ_CHUNK;
        ssize_t n = read(fd, W.buf + len, want);
        if (n > 0) { len += (size_t)n; got += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) eof = 1;
        break;
    }
    size_t used = 0, text_len = 0;
    char *text = wire_utf8_clean(W.buf, len, eof, &used, &text_len);
    if (!text) used = len;                         /* out of memory: drop it */
    W.n_held[which] = len - used;                  /* at most 3 bytes */
    memcpy(W.held[which], W.buf + used, W.n_held[which]);
    if (text && text_len && W.hooks.on_stream && W.running && W.out_limit > 0 &&
        W.out_sent + (long long)text_len > W.out_limit) {
        /* Past the cell's output limit: what is read is dropped, once with
         * a note, so the client and the kernel stay responsive. */
        if (!W.out_cut) {                 /* also when the limit came late ("started") */
            W.out_cut = 1;
            char note[200];
            snprintf(note, sizeof note, "\n[ckernel: the cell's output passed %lld MiB and is cut here; "
                     "%%output MIB sets the limit]\n", W.out_limit >> 20);
            W.hooks.on_stream("stderr", note, strlen(note), W.hooks.ud);
        }
        W.out_sent = W.out_limit;
        text_len = 0;
    }
    if (text && text_len && W.hooks.on_stream) {
        W.out_sent += (long long)text_len;
        W.hooks.on_stream(stream_names[which], text, text_len, W.hooks.ud);
    }
    free(text);
    if (eof) {
        channels_unwatch_fd(fd);
        close(fd);
        W.out_fd[which] = -1;
        W.n_held[which] = 0;
    }
    return got;
}

static void on_output_fd(int fd, void *ud) {
    (void)fd;
    read_output((int)(long)ud);
}

/* The worker flushed stdout and stderr before its "done": take all of it
 * so that the output comes before the result. */
static void drain_output(void) {
    for (int i = 0; i < 2; i++)
        while (read_output(i) > 0) {}
}

/* ---------------------------------------------------------------- spawning */

static void close_fd(int *fd) {
    if (*fd < 0) return;
    channels_unwatch_fd(*fd);
    close(*fd);
    *fd = -1;
}

static void close_pipes(void) {
    close_fd(&W.req_fd);
    close_fd(&W.ev_fd);
    close_fd(&W.out_fd[OUT]);
    close_fd(&W.out_fd[ERR]);
    W.n_held[OUT] = W.n_held[ERR] = 0;
    ipc_reader_free(&W.ev);
    ipc_reader_init(&W.ev);
}

/* The worker binary: $CKERNEL_WORKER, else ckernel-worker next to us. */
static int worker_path(char *path, size_t n) {
    const char *env = getenv("CKERNEL_WORKER");
    if (env && *env) return snprintf(path, n, "%s", env) < (int)n ? 0 : -1;
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0) return -1;
    self[len] = '\0';
    return snprintf(path, n, "%s/ckernel-worker", dirname(self)) < (int)n ? 0 : -1;
}

/* Fork and exec the worker with the fds of ipc.h. Only async-signal-safe
 * calls happen in the child: the kernel has threads. */
static int spawn(void) {
    char path[PATH_MAX];
    if (worker_path(path, sizeof path) < 0) { log_error("cannot find the worker binary"); return -1; }
    int p_out[2], p_err[2], p_req[2], p_ev[2];
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || pipe2(p_out, O_CLOEXEC) || pipe2(p_err, O_CLOEXEC) ||
        pipe2(p_req, O_CLOEXEC) || pipe2(p_ev, O_CLOEXEC)) {
        log_error("cannot create the worker's pipes: %m");
        return -1;     /* a leak of a few fds on a path that ends the kernel's usefulness */
    }
    pid_t pid = fork();
    if (pid < 0) { log_error("fork: %m"); return -1; }
    if (pid == 0) {
        setpgid(0, 0);
        int src[5] = { devnull, p_out[1], p_err[1], p_req[0], p_ev[1] };
        for (int i = 0; i < 5; i++)            /* out of the way of 0..4 first */
            src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
        for (int i = 0; i < 5; i++)
            if (src[i] < 0 || dup2(src[i], i) < 0) _exit(126);
        close_range(5, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);   /* the kernel blocks some */
        signal(SIGPIPE, SIG_DFL);                /* and ignores this one */
        char *const argv[] = { (char *)"ckernel-worker", NULL };
        execv(path, argv);
        static const char msg[] = "ckernel-worker: exec failed\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
    }
    setpgid(pid, pid);              /* also here: no race with the first kill */
    close(devnull);
    close(p_out[1]); close(p_err[1]); close(p_req[0]); close(p_ev[1]);
    W.pid = W.pgid = pid;
    W.req_fd = p_req[1];
    W.ev_fd = p_ev[0];
    W.out_fd[OUT] = p_out[0];
    W.out_fd[ERR] = p_err[0];
    int readers[3] = { W.ev_fd, W.out_fd[OUT], W.out_fd[ERR] };
    for (int i = 0; i < 3; i++)
        fcntl(readers[i], F_SETFL, fcntl(readers[i], F_GETFL) | O_NONBLOCK);
    channels_watch_fd(W.ev_fd, on_event_fd, NULL);
    channels_watch_fd(W.out_fd[OUT], on_output_fd, (void *)(long)OUT);
    channels_watch_fd(W.out_fd[ERR], on_output_fd, (void *)(long)ERR);
    log_info("spawned worker %s as pid %d", path, (int)pid);
    return 0;
}

/* SIGKILL every process below PID, depth first, from /proc's children
 * lists. The kernel is the subreaper, so a cell's double-forked daemon
 * (setsid: out of the worker's process group) is its child by now. */
static void kill_descendants(pid_t pid, int depth) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(path);
    if (!tasks || depth > 32) { if (tasks) closedir(tasks); return; }
    struct dirent *t;
    while ((t = readdir(tasks))) {
        if (t->d_name[0] == '.') continue;
        char file[320];
        snprintf(file, sizeof file, "/proc/%d/task/%.255s/children", (int)pid, t->d_name);
        FILE *f = fopen(file, "r");
        if (!f) continue;
        int child;
        while (fscanf(f, "%d", &child) == 1) {
            kill_descendants(child, depth + 1);
            kill(child, SIGKILL);
        }
        fclose(f);
    }
    closedir(tasks);
}

static void kill_group(void) {
    guard_notify_drop();
    if (W.pgid > 0) kill(-W.pgid, SIGKILL);
    kill_descendants(getpid(), 0);
    W.pid = W.pgid = 0;
}

/* All writers of the event pipe are gone: nothing more can come on it. */
static void events_closed(void) {
    close_fd(&W.ev_fd);
}

/* Read events for up to TIMEOUT_MS until one with "ev" == EV arrives (new
 * reference) or, if PID is set, until PID is seen to have died. Other
 * events met on the way are handled as usual. */
static json_t *wait_event(const char *ev, int timeout_ms, pid_t pid) {
    long deadline = monotime_ms() + timeout_ms;
    for (;;) {
        json_t *msg;
        while ((msg = ipc_reader_next(&W.ev))) {
            const char *name = json_string_value(json_object_get(msg, "ev"));
            if (name && !strcmp(name, ev)) return msg;
            handle_event(msg);
            json_decref(msg);
        }
        long left = deadline - monotime_ms();
        if (left <= 0 || W.ev_fd < 0) return NULL;
        if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid) return NULL;
        struct pollfd p = { W.ev_fd, POLLIN, 0 };
        if (poll(&p, 1, left < 100 ? (int)left : 100) < 0 && errno != EINTR) return NULL;
        if (ipc_reader_fill(&W.ev, W.ev_fd) < 0) events_closed();
    }
}

int worker_start(void) {
    if (spawn() < 0) return -1;
    json_t *ready = wait_event("ready", START_TIMEOUT_MS, 0);
    if (ready) {
        json_decref(ready);
        if (guard_notify_take(W.pid) == 0) return 0;
        /* its cells' pidfd_send_signal would wait for an answer forever:
         * start one without that rule (worker/guard_filter.c) */
        setenv("CKERNEL_GUARD_NO_NOTIFY", "1", 1);
        kill_group();
        close_pipes();
        return worker_start();
    }
    /* Say why in the kernel's log: the worker wrote it to its stderr. */
    ssize_t n = W.out_fd[ERR] >= 0 ? read(W.out_fd[ERR], W.buf, 4096) : 0;
    while (n > 0 && (W.buf[n - 1] == '\n' || W.buf[n - 1] == '\r')) n--;
    log_error("the worker did not become ready%s%.*s", n > 0 ? ": " : "",
              n > 0 ? (int)n : 0, W.buf);
    kill_group();
    close_pipes();
    return -1;
}

/* ---------------------------------------------------------------- cells */

/* Said at the start of the next cell after a worker was lost with its
 * session, so that nobody wonders where the definitions went. */
static const char *lost_note;


int worker_execute(const char *code, int count) {
    if (W.running) return -1;
    if (W.pid <= 0 && worker_start() < 0) return -1;
    json_t *req = json_pack("{s:s, s:s, s:i}", "op", "execute", "code", code, "count", count);
    int rc = req ? ipc_send(W.req_fd, req) : -1;
    json_decref(req);
    if (rc < 0) {
        log_error("cannot send the cell to the worker: %s", strerror(-rc));
        return -1;
    }
    W.running = 1;
    free(W.code);
    W.code = strdup(code);
    W.out_sent = W.out_limit = 0;
    W.out_cut = 0;
    json_decref(W.last_words);
    W.last_words = NULL;
    W.run_pid = W.pid;
    W.snapshot = 0;
    W.started = W.interrupt_pending = W.interrupted = W.took_over = 0;
    if (lost_note && W.hooks.on_stream) W.hooks.on_stream("stderr", lost_note, strlen(lost_note), W.hooks.ud);
    lost_note = NULL;
    return 0;
}

int worker_input_reply(const char *value) {
    if (!W.running || W.req_fd < 0) return -1;
    json_t *rep = value ? json_pack("{s:s, s:s}", "op", "input_reply", "value", value)
                        : json_pack("{s:s, s:b}", "op", "input_reply", "eof", 1);
    int rc = rep ? ipc_send(W.req_fd, rep) : -1;
    json_decref(rep);
    return rc < 0 ? -1 : 0;
}

json_t *worker_ask(json_t *req, const char *reply_ev, int timeout_ms) {
    if (W.running || W.pid <= 0 || W.req_fd < 0) return NULL;
    if (ipc_send(W.req_fd, req) < 0) return NULL;
    json_t *ev = wait_event(reply_ev, timeout_ms, 0);
    if (!ev) log_warn("the worker did not answer \"%s\" in time", reply_ev);
    return ev;
}

static void end_cell(json_t *done) {
    drain_output();
    W.running = 0;
    W.run_pid = W.snapshot = 0;
    json_decref(W.crash);
    W.crash = NULL;
    if (W.hooks.on_done) W.hooks.on_done(done, W.hooks.ud);
    /* The reply and idle are queued: now the worker may fork the next
     * cell's snapshot (ipc.h) while they travel and the client reads. */
    static const char fork_now[] = "{\"op\":\"snapshot\"}";
    if (W.req_fd >= 0 && W.pid > 0) ipc_send_text(W.req_fd, fork_now, sizeof fork_now - 1);
}

static void kill_running(void) {
    W.interrupted = 1;
    if (W.run_pid > 0) kill(W.run_pid, SIGKILL);
}

/* CPU seconds (user + system) process PID has used, from /proc; -1 if gone. */
static double cpu_seconds(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');       /* the name may hold spaces and parentheses */
    unsigned long long utime, stime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

void worker_tick(void) {
    if (!W.running || !W.started || W.cpu_limit <= 0 || W.interrupted || W.last_words) return;
    double used = cpu_seconds(W.run_pid) - W.cpu_start;
    if (used <= W.cpu_limit + CPU_GRACE_S) return;
    /* RLIMIT_CPU should have ended it: the cell lifted its own limit */
    char evalue[200];
    snprintf(evalue, sizeof evalue, "the cell used more than %g s of CPU time (the %%cpu limit; "
             "it lifted its own RLIMIT_CPU, so the kernel stopped it)", W.cpu_limit);
    const char *ename = ck_ename(CK_CPU_TIME_ERROR);
    W.last_words = json_pack("{s:s, s:s, s:s, s:[s++]}", "ev", "crash", "ename", ename,
                             "evalue", evalue, "traceback", ename, ": ", evalue);
    kill(W.run_pid, SIGKILL);
}

/* ---- the worker's events (ipc.h): one function and one row each ---- */

static void ev_started(json_t *ev, pid_t pid) {
    if (!W.running) return;
    W.started = 1;
    if (pid > 0) W.run_pid = pid;
    W.snapshot = (pid_t)json_integer_value(json_object_get(ev, "snapshot"));
    W.out_limit = json_integer_value(json_object_get(ev, "output_limit"));
    W.cpu_limit = json_number_value(json_object_get(ev, "cpu_limit"));
    /* /proc costs three system calls: only a %cpu limit is watched */
    W.cpu_start = W.cpu_limit > 0 ? cpu_seconds(W.run_pid) : 0;
    if (W.interrupt_pending) kill_running();
}

static void ev_done(json_t *ev, pid_t pid) {
    (void)pid;
    if (!W.running || W.crash) {
        log_warn("worker sent \"done\" with no cell running; ignored");
        return;
    }
    end_cell(ev);
}

static void ev_input_request(json_t *ev, pid_t pid) {
    (void)pid;
    if (!W.running) return;
    if (W.hooks.on_input)
        W.hooks.on_input(json_string_value(json_object_get(ev, "prompt")) ?: "",
                         json_is_true(json_object_get(ev, "password")), W.hooks.ud);
    else
        worker_input_reply(NULL);
}

/* crash.c explains the death before it happens; the wait status that
 * follows confirms it. */
static void ev_crash(json_t *ev, pid_t pid) {
    (void)pid;
    if (!W.running) return;
    json_decref(W.last_words);
    W.last_words = json_incref(ev);
}

/* display, update_display and clear_output */
static void ev_display(json_t *ev, pid_t pid) {
    (void)pid;
    if (!W.running) return;
    drain_output();              /* what the cell printed first comes first */
    if (W.hooks.on_display) W.hooks.on_display(ev, W.hooks.ud);
}

static void ev_ready(json_t *ev, pid_t pid) {
    if (pid > 0) W.pid = pid;
    if (!json_is_true(json_object_get(ev, "takeover")) || !W.running) return;
    /* The snapshot is the worker now, with the state from before the
     * cell; cell_died ends the cell once the old process is reaped. */
    log_info("snapshot %d took over", (int)pid);
    W.took_over = 1;
    W.snapshot = 0;
}

/* Events waited for by name (wait_event) never reach this table. A new
 * event is a function above and a row here, and a line in ipc.h. */
static const struct { const char *name; void (*handle)(json_t *ev, pid_t pid); } worker_events[] = {
    { "started", ev_started },
    { "done", ev_done },
    { "input_request", ev_input_request },
    { "crash", ev_crash },
    { "display", ev_display },
    { "update_display", ev_display },
    { "clear_output", ev_display },
    { "ready", ev_ready },
};

static void handle_event(json_t *ev) {
    const char *name = json_string_value(json_object_get(ev, "ev"));
    pid_t pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
    if (!name) {
        log_warn("worker event without \"ev\"");
        return;
    }
    for (size_t i = 0; i < sizeof worker_events / sizeof worker_events[0]; i++)
        if (!strcmp(name, worker_events[i].name)) {
            worker_events[i].handle(ev, pid);
            return;
        }
    log_warn("unknown worker event \"%s\"", name);
}

static void on_event_fd(int fd, void *ud) {
    (void)ud;
    int rc = ipc_reader_fill(&W.ev, fd);
    json_t *msg;
    while ((msg = ipc_reader_next(&W.ev))) {
        handle_event(msg);
        json_decref(msg);
    }
    if (rc < 0 && W.ev_fd == fd) events_closed();
}

/* ---------------------------------------------------------------- deaths */

/* The error a cell ends with when process PID, running it, died with wait
 * STATUS; cell_died adds a line on what became of the session. */
static json_t *death_error(pid_t pid, int status) {
    char evalue[160], what[480];
    const char *ename;
    json_t *words = W.last_words;
    W.last_words = NULL;
    json_decref(W.frames);
    W.frames = words ? json_incref(json_object_get(words, "frames")) : NULL;
    if (words && !W.interrupted && json_is_array(json_object_get(words, "traceback"))) {
        /* the process said why it died (crash.c): use its words */
        json_t *err = json_pack("{s:s, s:O, s:O, s:O, s:n, s:n}", "status", "error",
                                "ename", json_object_get(words, "ename"),
                                "evalue", json_object_get(words, "evalue"),
                                "traceback", json_object_get(words, "traceback"),
                                "result", "diagnostics");
        json_decref(words);
        if (err) return err;
    }
    json_decref(words);
    if (W.interrupted) {
        ename = ck_ename(CK_KEYBOARD_INTERRUPT);
        snprintf(evalue, sizeof evalue, "interrupted by the user");
        snprintf(what, sizeof what, "The cell was stopped (its process %d was killed).", (int)pid);
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *abbrev = sigabbrev_np(sig);
        ename = ck_ename(CK_CRASH);
        snprintf(evalue, sizeof evalue, "%s (SIG%s)", strsignal(sig), abbrev ? abbrev : "?");
        snprintf(what, sizeof what, "The process running the cell (pid %d) was killed by signal %d: %s.%s",
                 (int)pid, sig, evalue, sig != SIGPIPE ? "" : " It wrote to a pipe nobody reads: one of "
                 "the cell's, or the worker's own to the kernel, which the cell closed.");
    } else {
        ename = ck_ename(CK_EXIT);
        snprintf(evalue, sizeof evalue, "the cell called exit(%d)", WEXITSTATUS(status));
        snprintf(what, sizeof what, "The process running the cell (pid %d) exited with status %d.",
                 (int)pid, WEXITSTATUS(status));
    }
    char head[256];
    snprintf(head, sizeof head, "%s: %s", ename, evalue);
    return json_pack("{s:s, s:s, s:s, s:[s, s], s:n, s:n}", "status", "error",
                     "ename", ename, "evalue", evalue, "traceback", head, what,
                     "result", "diagnostics");
}

static void add_line(json_t *err, const char *line) {
    json_array_append_new(json_object_get(err, "traceback"), json_string(line));
}

/* Throw away the old worker and all it started; start a new one. */
static void restart_worker(void) {
    kill_group();
    close_pipes();
    if (!W.stopping && worker_start() < 0)
        log_error("no worker: the next cell will try again");
}

/* Ask the snapshot that took over (it has the session the cell was
 * compiled against) which line of the cell each crashed frame was on, and
 * add it to the frame's line of ERR's traceback: "  f() + 24" becomes
 * "  f() + 24, line 3 of this cell". Each frame says which traceback line
 * shows it and how long its "  f() + 24" head is (crash.c, ipc.h). */
static void add_lines_of_frames(json_t *err) {
    if (!json_array_size(W.frames) || !W.code || W.req_fd < 0) return;
    json_t *req = json_pack("{s:s, s:s, s:O}", "op", "lines", "code", W.code, "frames", W.frames);
    int sent = req && ipc_send(W.req_fd, req) == 0;
    json_decref(req);
    int ms = strstr(W.code, "%%cc") ? CC_LINES_TIMEOUT_MS : LINES_TIMEOUT_MS;
    json_t *rep = sent ? wait_event("lines_reply", ms, 0) : NULL;
    json_t *lines = json_object_get(rep, "lines");
    json_t *cells = json_object_get(rep, "cells");   /* an earlier %%cc cell's line, or 0 */
    json_t *tb = json_object_get(err, "traceback");
    for (size_t i = 0; i < json_array_size(lines) && i < json_array_size(W.frames); i++) {
        json_int_t line = json_integer_value(json_array_get(lines, i));
        json_t *f = json_array_get(W.frames, i);
        json_int_t k = json_integer_value(json_array_get(f, 2));
        json_int_t head_len = json_integer_value(json_array_get(f, 3));
        const char *t = json_string_value(json_array_get(tb, (size_t)k));
        if (line <= 0 || k <= 0 || !t || head_len <= 0 || (size_t)head_len > strlen(t)) continue;
        json_int_t cell = json_integer_value(json_array_get(cells, i));
        char *with = NULL;
        int rc = cell > 0 ? asprintf(&with, "%.*s, line %lld of cell [%lld]", (int)head_len, t,
                                     (long long)line, (long long)cell)
                          : asprintf(&with, "%.*s, line %lld of this cell", (int)head_len, t,
                                     (long long)line);
        if (rc >= 0) json_array_set_new(tb, (size_t)k, json_string(with));
        free(with);
    }
    json_decref(rep);
}

/* The process running the cell died: recover a worker, then end the cell. */
static void cell_died(pid_t pid, int status) {
    drain_output();                  /* what it printed before dying, before the pipes go */
    W.crash = death_error(pid, status);
    if (!W.took_over && W.snapshot > 0 && kill(W.snapshot, 0) == 0) {
        json_t *ready = wait_event("ready", TAKEOVER_TIMEOUT_MS, W.snapshot);
        if (ready) {
            handle_event(ready);      /* sets took_over */
            json_decref(ready);
        }
    }
    if (W.took_over) {
        add_lines_of_frames(W.crash);
        add_line(W.crash, "The worker went back to the state from before this cell: "
                          "what earlier cells defined is still there.");
    } else {
        add_line(W.crash, "The worker and its snapshot were both lost: a new worker was started, "
                          "and what earlier cells defined is lost.");
        lost_note = "Note: the previous cell lost the worker and its snapshot: this session started "
                    "afresh, and what cells before it defined is gone.\n";
        restart_worker();
    }
    json_t *err = W.crash;
    W.crash = NULL;
    end_cell(err);
    json_decref(err);
}

void worker_reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (WIFSTOPPED(status)) {
            /* only a tracee reports a stop here: a cell's PTRACE_TRACEME
             * made us its tracer. Let go of it, with its signal, as if
             * nobody traced it (the kernel traces nothing). */
            ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)WSTOPSIG(status));
            continue;
        }
        if (W.stopping) continue;
        /* The dead process wrote "started" (naming its snapshot), maybe
         * "done", before it died: read them before judging the death. */
        if (W.ev_fd >= 0 && (pid == W.pid || pid == W.run_pid)) on_event_fd(W.ev_fd, NULL);
        if (W.running && !W.crash && (pid == W.run_pid || pid == W.pid)) {
            cell_died(pid, status);
        } else if (pid == W.pid) {
            log_warn("the worker (pid %d) died while idle; starting a new one", (int)pid);
            lost_note = "Note: the worker died between cells: a new one was started, and what "
                        "earlier cells defined is gone.\n";
            restart_worker();
        } else if (pid == W.snapshot) {
            W.snapshot = 0;
        }
        /* Anything else: an orphan a cell left behind, now reaped. */
    }
}

void worker_interrupt(void) {
    if (!W.running) return;          /* an idle interrupt does nothing */
    if (W.ev_fd >= 0) on_event_fd(W.ev_fd, NULL);   /* the cell may have just ended */
    if (!W.running) return;
    if (W.started || W.interrupt_pending) kill_running();   /* twice: no waiting */
    else W.interrupt_pending = 1;
}

void worker_stop(void) {
    W.stopping = 1;
    pid_t pgid = W.pgid;
    if (W.req_fd >= 0) {
        json_t *bye = json_pack("{s:s}", "op", "shutdown");
        ipc_send(W.req_fd, bye);
        json_decref(bye);
    }
    kill_group();
    /* Reap until the group is gone: members whose parent died are handed
     * to us (the subreaper) a moment later, so poll for a short while. */
    for (long end = monotime_ms() + 2000; pgid > 0 && monotime_ms() < end;) {
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        if (kill(-pgid, 0) < 0 && errno == ESRCH) break;
        usleep(2000);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    close_pipes();
    json_decref(W.crash);
    W.crash = NULL;
    json_decref(W.last_words);
    W.last_words = NULL;
    json_decref(W.frames);
    W.frames = NULL;
    free(W.code);
    W.code = NULL;
    ipc_reader_free(&W.ev);
    free(W.buf);
    W.buf = NULL;
}
