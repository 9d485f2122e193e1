/* main.c - ckernel's entry point: arguments, signals, the loop, the exit.
 *
 * Owns the process as a whole: which signals mean what (SIGINT interrupts
 * the cell, as kernel.json's interrupt_mode "signal" promises; SIGTERM shuts
 * down cleanly; SIGCHLD reaps the worker), and the order in which the
 * subsystems start and stop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <uuid/uuid.h>
#include <sodium.h>
#include "channels.h"
#include "connection.h"
#include "handlers.h"
#include "log.h"
#include "version.h"
#include "wire.h"
#include "worker.h"

#define PARENT_CHECK_MS 1000

static void usage(FILE *out) {
    fprintf(out,
            "usage: ckernel -f CONNECTION_FILE\n"
            "       ckernel --version | --help\n"
            "A Jupyter kernel for C: cells are compiled in memory with libtcc.\n"
            "Jupyter starts it with the connection file it wrote (see kernel.json).\n");
}

/* SIGINT, SIGTERM and SIGCHLD arrive through a signalfd read by the poll
 * loop, so no handler runs at an awkward moment. */
static void on_signal(int fd, void *ud) {
    (void)ud;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == sizeof si) {
        switch (si.ssi_signo) {
        case SIGINT:  handlers_interrupt(); break;
        case SIGTERM: log_info("SIGTERM: shutting down"); channels_stop(); break;
        case SIGCHLD: worker_reap(); break;
        }
    }
}

int main(int argc, char **argv) {
    const char *conn_file = NULL;
    log_set_role("ckernel");
    if (sodium_init() < 0) {            /* HMAC-SHA256 (wire.c) */
        log_error("libsodium cannot start");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) { printf("ckernel %s\n", CK_VERSION); return 0; }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "-f") && i + 1 < argc) conn_file = argv[++i];
        else if (!strncmp(argv[i], "--f=", 4)) conn_file = argv[i] + 4;
        else { fprintf(stderr, "ckernel: unexpected argument \"%s\"\n", argv[i]); usage(stderr); return 2; }
    }
    if (!conn_file) { usage(stderr); return 2; }

    connection conn;
    char err[512];
    if (connection_load(conn_file, &conn, err, sizeof err) < 0) {
        fprintf(stderr, "ckernel: bad connection file %s: %s\n", conn_file, err);
        return 2;
    }

    if (worker_init(handlers_worker_hooks()) < 0) return 1;

    /* Block before any thread starts (ZeroMQ's, the heartbeat's) so that
     * only the signalfd sees these; the worker unblocks them after fork. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGCHLD);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);      /* a dead worker's pipe is an error, not a death */
    int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);

    uuid_t u;
    char session[37];
    uuid_generate(u);
    uuid_unparse_lower(u, session);
    wire_ctx w;
    int rc = 1;
    if (sfd < 0 || wire_ctx_init(&w, conn.key, conn.key_len, session) < 0 ||
        wire_ctx_refuse_replays(&w) < 0) {
        log_error("cannot set up signals or keys");
        connection_free(&conn);
        return 1;
    }
    if (channels_open(&conn, &w) < 0) goto out;
    channels_watch_fd(sfd, on_signal, NULL);
    handlers_init();
    log_info("session %s on %s://%s", session, conn.transport, conn.ip);
    if (worker_start() < 0) log_error("no worker yet; cells will report the error");

    /* Like ipykernel's parent poller: if whoever started us dies (we are
     * handed to another parent), nobody can shut us down, so stop. */
    pid_t parent = getppid();
    while (channels_running()) {
        if (channels_poll(PARENT_CHECK_MS) < 0) goto out;
        worker_tick();
        if (getppid() != parent) {
            log_warn("the parent process died; shutting down");
            break;
        }
    }
    rc = 0;
out:
    worker_stop();
    channels_close();
    handlers_free();
    wire_ctx_free(&w);
    connection_free(&conn);
    close(sfd);
    log_info("bye");
    return rc;
}
