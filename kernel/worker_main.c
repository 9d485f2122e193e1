/* worker_main.c - the worker process: compiles and runs cells.
 *
 * The kernel starts it with the descriptors described in ipc.h. It owns
 * the session (session.c) and protects it with a snapshot: before each
 * cell it forks a sleeping copy of itself. If the cell ends normally the
 * copy is killed; if the process running the cell dies (a crash, exit(),
 * an interrupt, which the kernel delivers as SIGKILL), the copy wakes up,
 * with the session exactly as it was before that cell, and takes over.
 * The worker never touches ZeroMQ: the kernel speaks Jupyter. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "compile.h"
#include "ipc.h"
#include "log.h"
#include "session.h"

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void send_event(json_t *ev) {
    if (ipc_send(IPC_EVENT_FD, ev) < 0) _exit(0);     /* the kernel is gone */
    json_decref(ev);
}

static void send_ready(int takeover) {
    send_event(json_pack("{s:s, s:i, s:b}", "ev", "ready", "pid", (int)getpid(),
                         "takeover", takeover));
}

/* Fork the sleeping copy. Returns its pid in the worker, 0 when no copy
 * could be made, and -1 in the copy once it has taken over. */
static pid_t fork_snapshot(void) {
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid < 0) log_warn("no snapshot (fork: %s): a crash will lose the session", strerror(errno));
        return pid < 0 ? 0 : pid;
    }
    /* The copy: sleep until the parent dies. */
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    if (getppid() == parent) {
        int sig;
        sigwait(&usr1, &sig);
    }
    /* Re-parented to the kernel (its subreaper): die with it from now on. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    compile_after_fork();
    sigprocmask(SIG_SETMASK, &old, NULL);
    return -1;
}

static void execute(session *s, json_t *req) {
    const char *code = json_string_value(json_object_get(req, "code"));
    session_result r;
    session_cell *pc = session_prepare(s, code ? code : "", &r);
    pid_t snap = 0;
    uint64_t snapshot_ns = 0;
    if (pc) {
        fflush(NULL);                     /* nothing buffered may be copied */
        uint64_t t0 = now_ns();
        snap = fork_snapshot();
        snapshot_ns = now_ns() - t0;
        if (snap < 0) {                   /* we are the copy, and the cell died */
            send_ready(1);
            session_result_free(&r);
            return;
        }
        send_event(json_pack("{s:s, s:i, s:i}", "ev", "started", "pid", (int)getpid(),
                             "snapshot", (int)snap));
        session_commit_run(s, pc, &r);
        fflush(stdout);
        fflush(stderr);
    }

    json_t *done = json_pack("{s:s, s:s}", "ev", "done", "status", r.ok ? "ok" : "error");
    json_object_set_new(done, "result", r.result_text
                        ? json_pack("{s:s}", "text/plain", r.result_text) : json_null());
    if (r.main_ran) json_object_set_new(done, "main_status", json_integer(r.main_status));
    json_object_set_new(done, "timing", json_pack("{s:I, s:I, s:I}", "snapshot_ns", (json_int_t)snapshot_ns,
                        "compile_ns", (json_int_t)r.compile_ns, "run_ns", (json_int_t)r.run_ns));
    if (!r.ok) {
        json_t *tb = json_array();
        for (size_t i = 0; i < r.ntraceback; i++) json_array_append_new(tb, json_string(r.traceback[i]));
        json_object_set_new(done, "ename", json_string(r.ename));
        json_object_set_new(done, "evalue", json_string(r.evalue));
        json_object_set_new(done, "traceback", tb);
    }
    if (r.diagnostics || r.notices) {
        char *text = NULL;
        if (asprintf(&text, "%s%s", r.diagnostics ? r.diagnostics : "", r.notices ? r.notices : "") >= 0) {
            json_object_set_new(done, "diagnostics", json_string(text));
            free(text);
        }
    } else {
        json_object_set_new(done, "diagnostics", json_null());
    }
    session_result_free(&r);
    if (snap > 0) kill(snap, SIGKILL);      /* the cell is done: commit */
    send_event(done);
    if (snap > 0) waitpid(snap, NULL, 0);
}

int main(void) {
    log_set_role("ckernel-worker");
    setpgid(0, 0);                       /* the kernel kills the whole group */
    pid_t kernel = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != kernel) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);    /* cells' output streams while they run */

    session *s = session_new();
    send_ready(0);
    for (;;) {
        json_t *req = ipc_recv(IPC_REQUEST_FD);
        if (!req) return 0;              /* the kernel closed the pipe */
        const char *op = json_string_value(json_object_get(req, "op"));
        if (op && strcmp(op, "execute") == 0) {
            execute(s, req);
        } else if (op && strcmp(op, "shutdown") == 0) {
            json_decref(req);
            return 0;
        } else {
            log_warn("unknown request '%s'", op ? op : "(none)");
        }
        json_decref(req);
    }
}
