/* worker.h - the kernel's side of the worker process (see ipc.h).
 *
 * Spawns ckernel-worker, sends it cells, forwards its stdout and stderr,
 * reaps it and whatever it started, and turns its death into the end of
 * the running cell. One worker per kernel; all state is in worker.c.
 *
 * Ownership: the JSON passed to on_done is borrowed for the call; text
 * passed to on_stream likewise. */
#ifndef CK_WORKER_H
#define CK_WORKER_H

#include <stddef.h>
#include <jansson.h>

typedef struct worker_hooks {
    /* Output the cell (or something it started) wrote. NAME is "stdout" or
     * "stderr"; TEXT is LEN bytes of valid UTF-8 (NUL-terminated, but may
     * hold NUL bytes). */
    void (*on_stream)(const char *name, const char *text, size_t len, void *ud);
    /* The cell ended. DONE has the shape of ipc.h's "done" event; when the
     * process running the cell died it is made up here (status "error",
     * ename "Crash", "Exit" or "KeyboardInterrupt"). */
    void (*on_done)(json_t *done, void *ud);
    /* The cell reads stdin and waits: answer with worker_input_reply. */
    void (*on_input)(const char *prompt, int password, void *ud);
    /* The runtime displays something: EV is the worker's "display",
     * "update_display" or "clear_output" event (ipc.h), borrowed. */
    void (*on_display)(json_t *ev, void *ud);
    void *ud;
} worker_hooks;

/* Become the subreaper of everything the worker starts; keep HOOKS. Call
 * before any other worker_ function and before threads start. 0 or -1. */
int worker_init(const worker_hooks *hooks);
/* Spawn the worker and wait for its first "ready". 0 or -1 (logged). */
int worker_start(void);
/* Send one cell. 0, or -1 if no worker could take it (the cell did not
 * start and on_done will not be called). */
int worker_execute(const char *code, int count);
/* Answer the running cell's input request: VALUE is one line without its
 * newline; NULL means end of file. 0 or -1. */
int worker_input_reply(const char *value);
/* Ask an idle worker REQ (borrowed, e.g. {"op":"complete",...}) and wait
 * up to TIMEOUT_MS for the event named REPLY_EV. New reference, or NULL if
 * the worker is busy, absent or silent. */
json_t *worker_ask(json_t *req, const char *reply_ev, int timeout_ms);
/* 1 while a cell runs. */
int worker_busy(void);
/* Stop the running cell (SIGKILL to the process running it); its end
 * arrives through on_done as KeyboardInterrupt. Harmless when idle. */
void worker_interrupt(void);
/* Call about once a second: ends a cell that used more CPU than its
 * limit ("cpu_limit" of "started") though it lifted its own RLIMIT_CPU. */
void worker_tick(void);
/* Reap every child that ended; call on SIGCHLD. */
void worker_reap(void);
/* Kill the worker's process group, reap it and close the pipes. */
void worker_stop(void);

#endif
