/* escape.c - %escape: run the analyser on the cell, and show what it says
 * (see escape.h). The analysis itself lives in escape/ (its own program). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "escape.h"
#include "toolspawn.h"
#include "monotime.h"
#include "textbuf.h"

extern char **environ;

void escape_result_free(escape_result *r) {
    json_decref(r->facts);
    json_decref(r->display);
    free(r->error);
    memset(r, 0, sizeof *r);
}

static int fail(escape_result *r, const char *fmt, const char *what) {
    if (asprintf(&r->error, fmt, what) < 0) r->error = NULL;
    return -1;
}

/* build/bin/ckernel-escape beside the worker, or $CKERNEL_ESCAPE_BIN. */
static void analyser_path(char *out, size_t n) {
    const char *env = getenv("CKERNEL_ESCAPE_BIN");
    if (env && *env) { snprintf(out, n, "%s", env); return; }
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = 0;
    snprintf(out, n, "%s/ckernel-escape", dirname(self));
}

static double timeout_seconds(void) {
    const char *env = getenv("CKERNEL_ESCAPE_TIMEOUT");
    double t = env ? strtod(env, NULL) : 0;
    return t > 0 ? t : 60;
}

/* Start the analyser on UNIT in a process group of its own (the tools it
 * starts are in it too), its stdout to *OUT_FD. Its pid, or -1. */
static pid_t spawn_analyser(const char *bin, const char *unit, const char *errfile, int *out_fd) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    const char *tools = getenv("CKERNEL_ESCAPE_TOOLS");     /* "off": ckernel's own analysis only */
    char *no_tools = tools && !strcmp(tools, "off") ? "--no-tools" : NULL;
    char *argv[] = { (char *)bin, (char *)unit, no_tools, NULL };
    pid_t pid;
    int rc = spawn_tool(&pid, &fa, 0, 1, argv, environ);   /* closes the kernel's pipes in it */
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) { close(p[0]); errno = rc; return -1; }
    *out_fd = p[0];
    return pid;
}

/* Read all of FD until it closes or DEADLINE_NS; 0, or -1 on the deadline. */
static int read_until(int fd, textbuf *b, uint64_t deadline_ns) {
    char buf[65536];
    for (;;) {
        uint64_t now = monotime_ns();
        if (now >= deadline_ns) return -1;
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int ms = (int)((deadline_ns - now) / 1000000) + 1;
        int n = poll(&pf, 1, ms);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        ssize_t k = read(fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return 0;
        textbuf_add(b, buf, (size_t)k);
    }
}

static char *first_line_of(const char *path) {
    FILE *f = fopen(path, "r");
    char line[400] = "";
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        fclose(f);
    }
    line[strcspn(line, "\n")] = 0;
    return strdup(line);
}

/* Run the analyser on UNIT_PATH; its JSON, or NULL with R->error. */
static json_t *analyse(const char *unit_path, const char *dir, escape_result *r) {
    char bin[PATH_MAX], errfile[PATH_MAX];
    analyser_path(bin, sizeof bin);
    snprintf(errfile, sizeof errfile, "%s/stderr", dir);
    int fd = -1;
    pid_t pid = spawn_analyser(bin, unit_path, errfile, &fd);
    if (pid < 0) { fail(r, "cannot start the escape analyser %s", bin); return NULL; }
    textbuf out = {0};
    double limit = timeout_seconds();
    int late = read_until(fd, &out, monotime_ns() + (uint64_t)(limit * 1e9)) < 0;
    close(fd);
    if (late) kill(-pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    json_t *j = NULL;
    char what[200];
    if (late) {
        snprintf(what, sizeof what, "%g s", limit);
        fail(r, "the escape analyser did not finish within %s; it was stopped (the cell is as it "
                "was)", what);
    } else if (WIFSIGNALED(st)) {
        snprintf(what, sizeof what, "signal %d, %s", WTERMSIG(st), strsignal(WTERMSIG(st)));
        fail(r, "the escape analyser crashed (%s); the session is unharmed", what);
    } else if (WEXITSTATUS(st) != 0) {
        char *msg = first_line_of(errfile);
        fail(r, "the escape analyser failed: %s", *msg ? msg : "no message");
        free(msg);
    } else if (!(j = json_loads(out.s ? out.s : "", 0, NULL))) {
        fail(r, "%s", "the escape analyser's answer is not JSON");
    }
    free(out.s);
    unlink(errfile);
    return j;
}

/* ---------------------------------------------------------------- table */

static void html_text(textbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '<') textbuf_puts(b, "&lt;");
        else if (*s == '>') textbuf_puts(b, "&gt;");
        else if (*s == '&') textbuf_puts(b, "&amp;");
        else if (*s == '"') textbuf_puts(b, "&quot;");
        else textbuf_add(b, s, 1);
    }
}

static const char *str(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* One row in text and HTML; W: the width of the "what" column. */
static void row(textbuf *t, textbuf *h, json_t *f, int tool, int w) {
    const char *why = str(f, "detail");
    char line[16];
    snprintf(line, sizeof line, "%d", (int)json_integer_value(json_object_get(f, "line")));
    textbuf_printf(t, "  %-12s %5s  %-*s %-26s %s%s%s\n", str(f, "function"), line, w, str(f, "name"),
                   str(f, "verdict"), tool ? str(f, "source") : "", tool ? ": " : "", why);
    const char *v = str(f, "verdict");
    const char *colour = !strcmp(v, "does not escape") ? "#2e7d32" : !strcmp(v, "may escape") ? "#8d6e00"
                       : !strcmp(v, "leaks") || !strcmp(v, "escapes to caller") ? "#c62828" : "#ad5a00";
    textbuf_puts(h, "<tr><td><code>");
    html_text(h, str(f, "function"));
    textbuf_printf(h, "</code></td><td style=\"text-align:right\">%s</td>"
                      "<td style=\"white-space:nowrap\"><code>", line);
    html_text(h, str(f, "name"));
    textbuf_printf(h, "</code></td><td style=\"color:%s;white-space:nowrap\">", colour);
    html_text(h, v);
    textbuf_puts(h, "</td><td>");
    if (tool) {
        textbuf_puts(h, "<i>");
        html_text(h, str(f, "source"));
        textbuf_puts(h, "</i>: ");
    }
    html_text(h, why);
    textbuf_puts(h, "</td></tr>\n");
}

static void tools_line(textbuf *t, json_t *tools) {
    size_t i;
    json_t *x;
    json_array_foreach(tools, i, x) {
        const char *st = str(x, "status");
        if (!strcmp(st, "not installed"))
            textbuf_printf(t, "%s%s not installed", i ? ", " : "", str(x, "tool"));
        else
            textbuf_printf(t, "%s%s %s in %.0f ms", i ? ", " : "", str(x, "tool"), st,
                            json_real_value(json_object_get(x, "ms")));
    }
}

static json_t *format(json_t *facts, json_t *tools, json_t *errors, double parse_ms,
                      double analysis_ms) {
    textbuf t = {0}, h = {0}, tl = {0};
    tools_line(&tl, tools);
    textbuf_printf(&t, "escape analysis (ckernel: parse %.1f ms, analysis %.1f ms)\n", parse_ms,
                   analysis_ms);
    size_t i, nown = 0, ntool = 0;
    json_t *f;
    int w = 4;
    json_array_foreach(facts, i, f) {
        int len = (int)strlen(str(f, "name"));
        if (len > w) w = len < 32 ? len : 32;
    }
    textbuf_printf(&t, "  %-12s %5s  %-*s %-26s %s\n", "function", "line", w, "what", "verdict", "why");
    textbuf_printf(&h, "<table class=\"ck-escape\" style=\"font-size:90%%;border-collapse:collapse\">\n"
                       "<style>.ck-escape td, .ck-escape th { padding: 1px 8px; text-align: left; "
                       "vertical-align: top }</style>\n"
                       "<caption style=\"text-align:left\">escape analysis (ckernel: parse %.1f ms, "
                       "analysis %.1f ms)</caption>\n"
                       "<tr><th>function</th><th>line</th><th>what</th><th>verdict</th><th>why</th>"
                       "</tr>\n", parse_ms, analysis_ms);
    json_array_foreach(facts, i, f)
        if (!strcmp(str(f, "source"), "ckernel")) row(&t, &h, f, 0, w), nown++;
    if (!nown) {
        textbuf_puts(&t, "  (no address taken, no pointer parameter, no allocation in the cell's functions)\n");
        textbuf_puts(&h, "<tr><td colspan=\"5\"><i>no address taken, no pointer parameter, no allocation "
                         "in the cell's functions</i></td></tr>\n");
    }
    textbuf_printf(&t, "what the compilers say (%s):\n", tl.s ? tl.s : "none installed");
    textbuf_puts(&h, "<tr><th colspan=\"5\" style=\"text-align:left\">what the compilers say (");
    html_text(&h, tl.s ? tl.s : "none installed");
    textbuf_puts(&h, ")</th></tr>\n");
    json_array_foreach(facts, i, f)
        if (strcmp(str(f, "source"), "ckernel")) row(&t, &h, f, 1, w), ntool++;
    if (!ntool) {
        textbuf_puts(&t, "  (nothing about where memory goes)\n");
        textbuf_puts(&h, "<tr><td colspan=\"5\"><i>nothing about where memory goes</i></td></tr>\n");
    }
    json_array_foreach(errors, i, f) {
        textbuf_printf(&t, "note: the parser could not read all of the cell: %s\n", json_string_value(f));
        textbuf_puts(&h, "<tr><td colspan=\"5\"><i>the parser could not read all of the cell: ");
        html_text(&h, json_string_value(f) ? json_string_value(f) : "");
        textbuf_puts(&h, "</i></td></tr>\n");
    }
    textbuf_puts(&h, "</table>\n");
    json_t *d = json_pack("{s:s, s:s}", "text/plain", t.s, "text/html", h.s);
    free(t.s);
    free(h.s);
    free(tl.s);
    return d;
}

int escape_run(session *s, const char *code, const char *cell_options, escape_result *r) {
    memset(r, 0, sizeof *r);
    char *unit = session_escape_unit(s, code, cell_options);
    if (!unit) return fail(r, "%s", "the cell could not be split for the analysis");
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX - 16], path[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/ckernel-escape-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        free(unit);
        return fail(r, "cannot make a temporary folder: %s", strerror(errno));
    }
    snprintf(path, sizeof path, "%s/unit.c", dir);
    FILE *f = fopen(path, "w");
    int written = f && fputs(unit, f) >= 0;
    if (f && fclose(f) != 0) written = 0;
    free(unit);
    json_t *j = written ? analyse(path, dir, r) : NULL;
    if (!written) fail(r, "cannot write %s", path);
    unlink(path);
    rmdir(dir);
    if (!j) return -1;
    r->facts = json_incref(json_object_get(j, "facts"));
    if (!json_is_array(r->facts)) r->facts = json_array();
    r->parse_ms = json_number_value(json_object_get(j, "parse_ms"));
    r->analysis_ms = json_number_value(json_object_get(j, "analysis_ms"));
    r->parse_cpu_ms = json_number_value(json_object_get(j, "parse_cpu_ms"));
    r->analysis_cpu_ms = json_number_value(json_object_get(j, "analysis_cpu_ms"));
    r->display = format(r->facts, json_object_get(j, "tools"), json_object_get(j, "errors"), r->parse_ms,
                        r->analysis_ms);
    json_decref(j);
    return 0;
}
