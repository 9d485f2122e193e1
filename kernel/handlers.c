/* handlers.c - one function per Jupyter message type, and the table that
 * picks it.
 *
 * Owns the bookkeeping side of messaging 5.3: status busy/idle around every
 * request, execution_count, execute_input, results and replies, aborting
 * queued cells after an error, history. The language side (compiling and
 * running C) is the worker's; this file only sends it cells and publishes
 * what comes back. A new message type is one function and one table row. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "channels.h"
#include "errors.h"
#include "handlers.h"
#include "history.h"
#include "lexer.h"
#include "log.h"
#include "monotime.h"
#include "version.h"
#include "worker.h"

#define STOP_ON_ERROR_WINDOW_MS 20     /* see finish_cell */
#define WORKER_ASK_MS 2000             /* longest wait for completion/inspection */

/* What a handler leaves to do: DONE = publish idle now; RUNNING = a cell
 * runs and finish_cell publishes idle when it ends. */
enum { DONE, RUNNING };
typedef int (*handler_fn)(channel ch, wire_msg *req);

static int exec_count;          /* messaging 5.3: counts non-silent, stored cells */
static json_t *last_parent;     /* header of the last shown cell, for late output */

static struct {
    int active;                 /* a cell runs in the worker */
    wire_msg req;               /* its execute_request */
    int silent, stop_on_error, allow_stdin;
} cur;

static void dispatch(channel ch, wire_msg *req);

static void publish_status(const char *state, json_t *parent) {
    channels_publish("status", parent, json_pack("{s:s}", "execution_state", state));
}

/* ---------------------------------------------------------------- kernel_info */

static int h_kernel_info(channel ch, wire_msg *req) {
    channels_reply(ch, req, "kernel_info_reply", json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:[], s:{s:s, s:s, s:s, s:s, s:s, s:s}}",
        "status", "ok",
        "protocol_version", WIRE_PROTOCOL_VERSION,
        "implementation", "ckernel",
        "implementation_version", CK_VERSION,
        "banner", "ckernel " CK_VERSION " - C cells compiled in memory "
                  "with tcc 0.9.27 (libtcc)",
        "help_links",
        "language_info",
            "name", "c", "version", "C11", "mimetype", "text/x-csrc",
            "file_extension", ".c", "pygments_lexer", "c",
            "codemirror_mode", "text/x-csrc"), NULL);
    return DONE;
}

/* ---------------------------------------------------------------- execute */

static const char *str_or(json_t *obj, const char *key, const char *dflt) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

/* The cell line of the first NUL character in the string KEY of OBJ, or 0
 * if it has none (JSON may carry "\u0000"; C strings end there). */
static int nul_line(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    if (!s || strlen(s) == json_string_length(v)) return 0;
    int line = 1;
    for (const char *p = s; *p; p++) line += *p == '\n';
    return line;
}

static int bool_or(json_t *obj, const char *key, int dflt) {
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* The cell's outputs on iopub: the compiler's warnings, its value or its
 * error, and the measurement line (%measure). */
static void publish_outputs(json_t *done, json_t *parent, int ok, const char *ename, const char *evalue,
                            json_t *tb) {
    const char *diag = str_or(done, "diagnostics", "");
    if (*diag)
        channels_publish("stream", parent, json_pack("{s:s, s:s}", "name", "stderr", "text", diag));
    json_t *result = json_object_get(done, "result");
    if (ok && json_is_object(result))
        channels_publish("execute_result", parent, json_pack("{s:O, s:{}, s:i}",
                         "data", result, "metadata", "execution_count", exec_count));
    else if (!ok)
        channels_publish("error", parent, json_pack("{s:s, s:s, s:O}",
                         "ename", ename, "evalue", evalue, "traceback", tb));
    json_t *line = json_object_get(done, "measure_line");
    if (json_is_object(line))
        channels_publish("display_data", parent, json_pack("{s:O, s:{}, s:{}}", "data", line,
                         "metadata", "transient"));
}

/* Messaging 5.3 "stop_on_error": execute requests already queued when a
 * cell fails are answered "aborted"; other requests are served. Take them
 * from the queue before the reply goes out, so that a request sent in
 * answer to the reply is never taken for a queued one; and wait a moment
 * for requests the client sent before it could know of the error ("run
 * all" sends them back to back) that are still in flight. */
static wire_msg *take_queued(size_t *n_queued) {
    wire_msg *queued = NULL;
    size_t cap = 0;
    wire_msg next;
    long deadline = monotime_ms() + STOP_ON_ERROR_WINDOW_MS;
    *n_queued = 0;
    while (monotime_ms() < deadline && channels_next_shell(&next, (int)(deadline - monotime_ms()))) {
        if (*n_queued == cap) {
            wire_msg *q = realloc(queued, (cap = cap ? 2 * cap : 8) * sizeof *q);
            if (!q) { wire_msg_free(&next); break; }
            queued = q;
        }
        wire_msg_move(&queued[(*n_queued)++], &next);
    }
    return queued;
}

/* ... and answer them once the failed cell's reply is out. */
static void answer_queued(wire_msg *queued, size_t n_queued) {
    for (size_t i = 0; i < n_queued; i++) {
        wire_msg *q = &queued[i];
        if (!channels_running()) {
            /* shut down meanwhile: drop the rest */
        } else if (!strcmp(q->msg_type, "execute_request")) {
            publish_status("busy", q->header);
            channels_reply(CH_SHELL, q, "execute_reply", json_pack("{s:s}", "status", "aborted"), NULL);
            publish_status("idle", q->header);
        } else {
            dispatch(CH_SHELL, q);
        }
        wire_msg_free(q);
    }
    free(queued);
}

/* The reply's metadata: the worker's figures, for tests and tools, under
 * "ckernel" (metadata.ckernel.measure, .timing, ...). */
static json_t *reply_metadata(json_t *done) {
    json_t *md = json_object_get(done, "metadata");
    md = json_is_object(md) ? json_deep_copy(md) : json_object();
    json_t *ck = json_object();
    const char *keys[] = { "measure", "timing", "main_status", "leaks", "profile", "heap_profile",
                           "escape" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        json_t *v = json_object_get(done, keys[i]);
        if (v) json_object_set(ck, keys[i], v);
    }
    if (json_object_size(ck)) json_object_set_new(md, "ckernel", ck);
    else json_decref(ck);
    return md;
}

/* Messaging 5.3 "Execution results" / "Execution errors": outputs on
 * iopub first, then execute_reply, then idle. DONE is borrowed. */
static void finish_cell(json_t *done) {
    json_t *parent = cur.req.header;
    int ok = !strcmp(str_or(done, "status", "error"), "ok");
    const char *ename = str_or(done, "ename", "Error");
    const char *evalue = str_or(done, "evalue", "");
    json_t *tb = json_object_get(done, "traceback");
    tb = json_is_array(tb) ? json_copy(tb) : json_pack("[s++]", ename, ": ", evalue);

    if (!cur.silent) publish_outputs(done, parent, ok, ename, evalue, tb);
    json_t *reply = json_pack("{s:s, s:i, s:{}, s:[]}", "status", ok ? "ok" : "error",
                              "execution_count", exec_count, "user_expressions", "payload");
    if (!ok) {
        json_object_set_new(reply, "ename", json_string(ename));
        json_object_set_new(reply, "evalue", json_string(evalue));
        json_object_set(reply, "traceback", tb);
    }
    size_t n_queued = 0;
    wire_msg *queued = !ok && cur.stop_on_error ? take_queued(&n_queued) : NULL;
    channels_reply(CH_SHELL, &cur.req, "execute_reply", reply, reply_metadata(done));
    json_decref(tb);
    publish_status("idle", parent);

    if (!cur.silent) {
        json_decref(last_parent);
        last_parent = json_incref(parent);
    }
    wire_msg_free(&cur.req);
    cur.active = 0;
    channels_hold_shell(0);
    answer_queued(queued, n_queued);
}

static int h_execute(channel ch, wire_msg *req) {
    if (ch != CH_SHELL || cur.active) {
        channels_reply(ch, req, "execute_reply", json_pack(
            "{s:s, s:i, s:s, s:s, s:[]}", "status", "error", "execution_count", exec_count,
            "ename", ck_ename(CK_KERNEL_ERROR), "evalue", "execute_request is served on shell only",
            "traceback"), NULL);
        return DONE;
    }
    const char *code = str_or(req->content, "code", "");
    int silent = bool_or(req->content, "silent", 0);
    /* Messaging 5.3: silent forces store_history to false. */
    int store = !silent && bool_or(req->content, "store_history", 1);
    if (store) {
        exec_count++;
        history_add(exec_count, code);
    }
    cur.silent = silent;
    cur.stop_on_error = bool_or(req->content, "stop_on_error", 1);
    cur.allow_stdin = bool_or(req->content, "allow_stdin", 0);
    cur.active = 1;
    wire_msg_move(&cur.req, req);    /* CODE stays valid: it moved along */
    channels_hold_shell(1);          /* later shell requests wait their turn */
    /* The worker starts compiling while we publish execute_input (busy
     * went first, messaging 5.3); its output is read only after we return
     * to the poll loop, so it still comes after execute_input. */
    /* A NUL in the source: tcc stops there with this error; the worker,
     * which gets the cell as a C string, would see only the part before. */
    int nul = nul_line(cur.req.content, "code");
    int started = nul ? 0 : worker_execute(code, exec_count);
    if (!silent)
        channels_publish("execute_input", cur.req.header, json_pack("{s:s, s:i}",
                         "code", code, "execution_count", exec_count));
    if (nul) {
        char what[96];
        snprintf(what, sizeof what, "line %d: error: unrecognized character \\x00", nul);
        const char *ename = ck_ename(CK_COMPILE_ERROR);
        json_t *err = json_pack("{s:s, s:s, s:s, s:[s++]}", "status", "error", "ename", ename,
                                "evalue", what, "traceback", ename, ": ", what);
        finish_cell(err);
        json_decref(err);
    } else if (started < 0) {
        const char *ename = ck_ename(CK_WORKER_ERROR);
        json_t *err = json_pack("{s:s, s:s, s:s, s:[s+]}", "status", "error", "ename", ename,
                                "evalue", "the worker process could not be started",
                                "traceback", ename, ": the worker process could not be "
                                "started (see the kernel's log)");
        finish_cell(err);
        json_decref(err);
    }
    return RUNNING;
}

/* ---------------------------------------------------------------- is_complete */

static int h_is_complete(channel ch, wire_msg *req) {
    int indent = 0;
    lex_status st = lexer_is_complete(str_or(req->content, "code", ""), &indent);
    json_t *c;
    if (st == LEX_INCOMPLETE) {
        char spaces[65];
        if (indent < 0) indent = 0;
        if (indent > 64) indent = 64;
        memset(spaces, ' ', (size_t)indent);
        spaces[indent] = '\0';
        c = json_pack("{s:s, s:s}", "status", "incomplete", "indent", spaces);
    } else {
        c = json_pack("{s:s}", "status", st == LEX_COMPLETE ? "complete" : "invalid");
    }
    channels_reply(ch, req, "is_complete_reply", c, NULL);
    return DONE;
}

/* ---------------------------------------------------------------- complete */


static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Messaging 5.3 "Completion". A first version: C keywords and the
 * identifiers of this session's inputs (and of the code being edited) that
 * extend the word at the cursor. */
static int h_complete(channel ch, wire_msg *req) {
    const char *code = str_or(req->content, "code", "");
    json_t *jpos = json_object_get(req->content, "cursor_pos");
    /* The worker knows the session's names, members and headers; while it
     * runs a cell, fall back on the keywords and history below. */
    json_t *ask = json_pack("{s:s, s:s, s:o}", "op", "complete", "code", code, "cursor_pos",
                            jpos ? json_incref(jpos) : json_integer((json_int_t)strlen(code)));
    json_t *ans = ask ? worker_ask(ask, "complete_reply", WORKER_ASK_MS) : NULL;
    json_decref(ask);
    if (ans && json_is_array(json_object_get(ans, "matches"))) {
        channels_reply(ch, req, "complete_reply", json_pack("{s:s, s:O, s:I, s:I, s:{}}",
                       "status", "ok", "matches", json_object_get(ans, "matches"),
                       "cursor_start", json_integer_value(json_object_get(ans, "cursor_start")),
                       "cursor_end", json_integer_value(json_object_get(ans, "cursor_end")),
                       "metadata"), NULL);
        json_decref(ans);
        return DONE;
    }
    json_decref(ans);
    size_t end = json_is_integer(jpos) ? lexer_byte_offset(code, (size_t)json_integer_value(jpos)) : strlen(code);
    size_t start = end;
    while (start > 0 && lexer_ident_char((unsigned char)code[start - 1])) start--;
    const char *word = code + start;
    size_t wlen = end - start;

    json_t *set = json_object();    /* names as keys: no duplicates */
    for (size_t i = 0; lexer_keywords[i]; i++)
        if (!strncmp(lexer_keywords[i], word, wlen)) json_object_set_new(set, lexer_keywords[i], json_true());
    /* The inputs so far, then this code (less the word being typed). */
    for (size_t h = 0; h <= history_count(); h++) {
        const char *src = h < history_count() ? history_input(h) : code;
        size_t n = 0;
        token *toks = lexer_tokenize(src, &n, NULL);
        for (size_t t = 0; toks && t < n; t++) {
            if (toks[t].kind != TOK_IDENT || toks[t].len < wlen || toks[t].len > 255) continue;
            if (strncmp(toks[t].start, word, wlen) || toks[t].start == word) continue;
            char name[256];
            memcpy(name, toks[t].start, toks[t].len);
            name[toks[t].len] = '\0';
            json_object_set_new(set, name, json_true());
        }
        free(toks);
    }
    size_t n = json_object_size(set), k = 0;
    const char **names = malloc((n ? n : 1) * sizeof *names);
    const char *key;
    json_t *val;
    json_object_foreach(set, key, val) if (names) names[k++] = key;
    if (names) qsort(names, k, sizeof *names, cmp_str);
    json_t *matches = json_array();
    for (size_t i = 0; i < k; i++) json_array_append_new(matches, json_string(names[i]));
    free(names);
    json_decref(set);

    long cursor_end = json_is_integer(jpos) ? (long)json_integer_value(jpos) : (long)end;
    channels_reply(ch, req, "complete_reply", json_pack("{s:s, s:o, s:i, s:i, s:{}}",
                   "status", "ok", "matches", matches,
                   "cursor_start", (json_int_t)(cursor_end - (long)wlen),
                   "cursor_end", (json_int_t)cursor_end, "metadata"), NULL);
    return DONE;
}

/* ---------------------------------------------------------------- the rest */

/* Messaging 5.3 "Introspection": the worker looks the name up; busy or
 * absent, nothing is found. */
static int h_inspect(channel ch, wire_msg *req) {
    json_t *ask = json_pack("{s:s, s:s, s:I, s:I}", "op", "inspect",
                            "code", str_or(req->content, "code", ""),
                            "cursor_pos", json_integer_value(json_object_get(req->content, "cursor_pos")),
                            "detail_level", json_integer_value(json_object_get(req->content, "detail_level")));
    json_t *ans = ask ? worker_ask(ask, "inspect_reply", WORKER_ASK_MS) : NULL;
    json_decref(ask);
    json_t *data = ans ? json_object_get(ans, "data") : NULL;
    int found = ans && json_is_true(json_object_get(ans, "found")) && json_is_object(data);
    channels_reply(ch, req, "inspect_reply", json_pack("{s:s, s:b, s:o, s:{}}",
                   "status", "ok", "found", found,
                   "data", found ? json_incref(data) : json_object(), "metadata"), NULL);
    json_decref(ans);
    return DONE;
}

static int h_history(channel ch, wire_msg *req) {
    channels_reply(ch, req, "history_reply", json_pack("{s:s, s:o}", "status", "ok",
                   "history", history_query(req->content)), NULL);
    return DONE;
}

static int h_comm_info(channel ch, wire_msg *req) {
    channels_reply(ch, req, "comm_info_reply", json_pack("{s:s, s:{}}", "status", "ok", "comms"), NULL);
    return DONE;
}

/* Messaging 5.3 "Kernel shutdown": reply, then end; main kills the worker.
 * The reply also goes to iopub so that other clients learn of it. */
static int h_shutdown(channel ch, wire_msg *req) {
    int restart = bool_or(req->content, "restart", 0);
    channels_reply(ch, req, "shutdown_reply", json_pack("{s:s, s:b}", "status", "ok", "restart", restart), NULL);
    channels_publish("shutdown_reply", req->header, json_pack("{s:s, s:b}", "status", "ok", "restart", restart));
    log_info("shutdown requested%s", restart ? " (restart)" : "");
    channels_stop();
    return DONE;
}

static int h_interrupt(channel ch, wire_msg *req) {
    worker_interrupt();
    channels_reply(ch, req, "interrupt_reply", json_pack("{s:s}", "status", "ok"), NULL);
    return DONE;
}

static const struct { const char *msg_type; handler_fn fn; } handlers[] = {
    { "kernel_info_request", h_kernel_info },
    { "execute_request",     h_execute },
    { "is_complete_request", h_is_complete },
    { "complete_request",    h_complete },
    { "inspect_request",     h_inspect },
    { "history_request",     h_history },
    { "comm_info_request",   h_comm_info },
    { "shutdown_request",    h_shutdown },
    { "interrupt_request",   h_interrupt },
};

/* Any other type: a warning, and where a reply is due an error reply. */
static int h_unknown(channel ch, wire_msg *req) {
    const char *type = req->msg_type;
    size_t len = strlen(type), suffix = strlen("_request");
    log_warn("unhandled message type \"%s\"", type);
    if (len > suffix && !strcmp(type + len - suffix, "_request")) {
        char reply[256];
        snprintf(reply, sizeof reply, "%.*s_reply", (int)(len - suffix) > 200 ? 200 : (int)(len - suffix), type);
        channels_reply(ch, req, reply, json_pack("{s:s, s:s, s:s+, s:[]}",
                       "status", "error", "ename", ck_ename(CK_UNKNOWN_MESSAGE_TYPE),
                       "evalue", "unknown message type: ", type, "traceback"), NULL);
    }
    return DONE;
}

/* Messaging 5.3 "Kernel status": busy before handling any request, idle
 * after, both with the request as parent. */
static void dispatch(channel ch, wire_msg *req) {
    handler_fn fn = h_unknown;
    for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++)
        if (!strcmp(handlers[i].msg_type, req->msg_type)) fn = handlers[i].fn;
    json_t *parent = json_incref(req->header);   /* req may be moved from */
    publish_status("busy", parent);
    if (fn(ch, req) == DONE) publish_status("idle", parent);
    json_decref(parent);
}

static void on_message(channel ch, wire_msg *msg, void *ud) {
    (void)ud;
    /* Messaging 5.3 "Messages on the stdin ROUTER/DEALER channel": the
     * client answers our input_request; no busy/idle around it. */
    if (ch == CH_STDIN) {
        if (!strcmp(msg->msg_type, "input_reply") && cur.active)
            worker_input_reply(str_or(msg->content, "value", ""));
        else
            log_warn("unexpected \"%s\" on stdin; ignored", msg->msg_type);
        return;
    }
    dispatch(ch, msg);
}

/* ---------------------------------------------------------------- worker hooks */

static void on_stream(const char *name, const char *text, size_t len, void *ud) {
    (void)ud;
    json_t *parent = cur.active ? cur.req.header : last_parent;
    if (cur.active && cur.silent) return;     /* messaging 5.3: silent shows nothing */
    json_t *s = json_stringn(text, len);
    if (!s) return;
    channels_publish("stream", parent, json_pack("{s:s, s:o}", "name", name, "text", s));
}

static void on_done(json_t *done, void *ud) {
    (void)ud;
    if (cur.active) finish_cell(done);
}

/* The cell reads stdin. Messaging 5.3: input_request goes to the client
 * that sent the execute_request, on stdin, only if it allowed stdin; if
 * not (nbconvert, for one), the cell reads end of file. */
static void on_input(const char *prompt, int password, void *ud) {
    (void)ud;
    if (!cur.active || !cur.allow_stdin) {
        worker_input_reply(NULL);
        return;
    }
    channels_reply(CH_STDIN, &cur.req, "input_request",
                   json_pack("{s:s, s:b}", "prompt", prompt, "password", password), NULL);
}

/* messaging 5.3: display_data, update_display_data (display_id in
 * transient), clear_output; metadata is {} and never null. */
static void on_display(json_t *ev, void *ud) {
    (void)ud;
    if (!cur.active || cur.silent) return;
    json_t *parent = cur.req.header;
    const char *kind = json_string_value(json_object_get(ev, "ev"));
    if (!strcmp(kind, "clear_output")) {
        channels_publish("clear_output", parent,
                         json_pack("{s:b}", "wait", json_is_true(json_object_get(ev, "wait"))));
        return;
    }
    json_t *data = json_object_get(ev, "data");
    json_t *content = json_pack("{s:O, s:{}}", "data", json_is_object(data) ? data : json_object(),
                                "metadata");
    json_t *id = json_object_get(ev, "display_id");
    if (json_is_string(id)) json_object_set_new(content, "transient", json_pack("{s:O}", "display_id", id));
    else json_object_set_new(content, "transient", json_object());
    channels_publish(!strcmp(kind, "update_display") ? "update_display_data" : "display_data",
                     parent, content);
}

static const worker_hooks hooks = { on_stream, on_done, on_input, on_display, NULL };

const worker_hooks *handlers_worker_hooks(void) { return &hooks; }

void handlers_init(void) {
    channels_on_message(on_message, NULL);
    publish_status("starting", NULL);
}

void handlers_interrupt(void) { worker_interrupt(); }

void handlers_free(void) {
    wire_msg_free(&cur.req);
    cur.active = 0;
    json_decref(last_parent);
    last_parent = NULL;
    history_free();
}
