/* ipc.h - messages between the kernel process and its worker process.
 *
 * Each message is one JSON object, sent as the 4 bytes IPC_MAGIC, a 4-byte
 * little-endian length and that many bytes of compact JSON (valid UTF-8).
 * Both ends use these calls; the worker reads blocking, the kernel reads
 * from its poll loop through an ipc_reader that never blocks.
 *
 * File descriptors of the worker (set up by the kernel before exec):
 *   0  /dev/null (cells read end of file; input_request comes later)
 *   1  pipe: the cell's stdout, forwarded by the kernel as stream "stdout"
 *   2  pipe: the cell's stderr, forwarded as stream "stderr"
 *   3  requests, kernel -> worker (IPC_REQUEST_FD)
 *   4  events,   worker -> kernel (IPC_EVENT_FD)
 *   (where the worker starts; it moves 3 and 4 out of the cells' way,
 *   worker/guard.c)
 *
 * Requests (kernel -> worker), field "op":
 *   {"op":"execute","code":STR,"count":INT}
 *        compile and run one cell. Exactly one "done" event answers it,
 *        unless the process running the cell dies (see "ready").
 *   {"op":"input_reply","value":STR} or {"op":"input_reply","eof":true}
 *        the answer to an "input_request" (eof: the client allows none).
 *   {"op":"complete","code":STR,"cursor_pos":INT}
 *        answered by {"ev":"complete_reply","matches":[STR...],
 *        "cursor_start":INT,"cursor_end":INT} (positions in code points).
 *   {"op":"inspect","code":STR,"cursor_pos":INT,"detail_level":INT}
 *        answered by {"ev":"inspect_reply","found":BOOL,"data":{MIME:STR}}.
 *        complete and inspect are sent only while no cell runs.
 *   {"op":"shutdown"}   exit at once (no reply).
 *   {"op":"snapshot"}   fork the next cell's snapshot now, if there is
 *        none (no reply). Sent once a cell's reply and idle are queued,
 *        so that the fork does not compete with them for the CPU; a cell
 *        that finds none forks its own.
 *
 * Events (worker -> kernel), field "ev":
 *   {"ev":"ready","pid":INT,"takeover":BOOL}
 *        the worker is ready for requests. Sent once at start
 *        (takeover false) and by a snapshot that takes over after the
 *        process running a cell died (takeover true): from then on PID is
 *        the worker, with the state it had before that cell.
 *   {"ev":"started","pid":INT,"snapshot":INT,"output_limit":INT}
 *        a cell begins in process PID; SNAPSHOT is the pid of the sleeping
 *        copy that takes over if PID dies (0 if there is none). The kernel
 *        forwards at most OUTPUT_LIMIT bytes of its output (0: no limit).
 *   {"ev":"done","status":"ok"|"error",
 *    "ename":STR,"evalue":STR,"traceback":[STR...],      (error only)
 *    "result":{"text/plain":STR,...}|null,               (trailing expression)
 *    "diagnostics":STR|null,                              (compiler warnings)
 *    "measure":{compile_ns,run_ns,cpu_ns,allocs,...},     (the cell ran)
 *    "measure_line":{"text/plain":STR,"text/html":STR},   (%measure on)
 *    "timing":{snapshot_ns,compile_ns,run_ns,prepare_ns,after_fork_ns,
 *              cell_ns,reply_ns,compiles},
 *    "main_status":INT,                                   (the cell ran main)
 *    "escape":[{function,name,kind,line,verdict,detail,source}]}  (%escape)
 *        the cell finished. Its stdout and stderr were flushed before this
 *        event was written, so the kernel drains those pipes, then replies;
 *        measure, timing, main_status and escape go to the reply's
 *        metadata.ckernel; with %escape, timing has escape_parse_ms,
 *        escape_analysis_ms and their _cpu_ms (the analyser's timers).
 *        timing: magics, split and compile (prepare_ns, of which compile_ns:
 *        building the unit and libtcc); the snapshot's fork (snapshot_ns);
 *        from the fork to "started" sent (after_fork_ns); commit, run and
 *        measurement (cell_ns, of which run_ns: the cell's code); building
 *        this event (reply_ns); compiles: libtcc runs (2 when the first,
 *        with only the declarations the cell seemed to need, said anything).
 *   {"ev":"input_request","prompt":STR,"password":BOOL}
 *        the cell reads stdin: answer with "input_reply".
 *   {"ev":"display","data":{MIME:DATA},"display_id":STR}  (id optional)
 *   {"ev":"update_display","data":{...},"display_id":STR}
 *   {"ev":"clear_output","wait":BOOL}
 *        the runtime shows something (nb.h); stdout was flushed first.
 *   {"ev":"crash","ename":STR,"evalue":STR,"traceback":[STR...],
 *    "frames":[[NAME,OFFSET,LINE,HEAD]...]}
 *        the process running the cell is about to die of a signal (or a
 *        %timeout) and says why (crash.c); its death follows. FRAMES are
 *        the cell functions of the traceback, innermost first, as data:
 *        traceback[LINE] shows the frame, its first HEAD bytes "  f() + 24".
 *   {"op":"lines","code":STR,"frames":[[NAME,OFFSET,...]...]}
 *        asked of the snapshot that took over: answered by
 *        {"ev":"lines_reply","lines":[INT...],"cells":[INT...]}, the line
 *        of each frame (0: unknown) in the crashed cell, or (CELLS[i] > 0)
 *        in the earlier %%cc cell of that execution count.
 *
 * A worker that dies while running a cell sends no "done": the kernel learns
 * of it by waitpid (it is the worker's subreaper) and, if "started" named a
 * snapshot, waits for that snapshot's "ready"; otherwise it starts a new
 * worker. Either way the cell ends in an error naming how the process died.
 */
#ifndef CK_IPC_H
#define CK_IPC_H

#include <stddef.h>
#include <jansson.h>

#define IPC_REQUEST_FD 3
#define IPC_EVENT_FD   4
#define IPC_MAX_MESSAGE (64u << 20)   /* larger lengths mean a broken peer */
#define IPC_MAGIC "\xff\xfe" "ck"     /* bytes UTF-8 never has: frames can be found again */
#define IPC_HEADER 8                  /* magic + length */

/* Send MSG (borrowed) on FD; blocks until written. 0 or -errno. */
int ipc_send(int fd, json_t *msg);
/* The same for a message already in JSON text (N bytes, valid UTF-8):
 * no allocation, for the worker's hot path. */
int ipc_send_text(int fd, const char *json, size_t n);

/* Read one message from FD, blocking. New reference, or NULL on end of
 * file or error. */
json_t *ipc_recv(int fd);

/* A non-blocking reader for the kernel's poll loop. */
typedef struct ipc_reader {
    char *buf;
    size_t len, cap;
    size_t checked;     /* body bytes of an incomplete frame seen to hold no 0xFF */
} ipc_reader;

void ipc_reader_init(ipc_reader *r);
void ipc_reader_free(ipc_reader *r);
/* Read what FD has now (FD should be O_NONBLOCK). Returns 1 if bytes came,
 * 0 if none were waiting, -1 at end of file or on error. */
int ipc_reader_fill(ipc_reader *r, int fd);
/* The next complete message (new reference), or NULL if none is complete.
 * Anything else (garbage, broken frames, JSON that is not an object) is
 * logged and skipped up to the next frame's magic. */
json_t *ipc_reader_next(ipc_reader *r);

#endif
