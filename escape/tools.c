/* tools.c - what the compilers themselves say about the same unit: gcc
 * (-Wreturn-local-addr, -Wdangling-pointer=2, -fanalyzer), clang's static
 * analyzer (core.StackAddressEscape, unix.Malloc) and cppcheck, whichever
 * are installed. They run beside ckernel's own analysis, each with its
 * output in a file; their messages about the cell's lines become facts in
 * the same shape, tagged with the tool's name, duplicates merged. */
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "analysis.h"
#include "tools.h"

typedef struct {
    const char *name, *path;
    pid_t pid;
    char out[512];
    struct timespec t0;
    double ms;
    int status;
} tool;

static tool tools[] = {
    { "gcc", "/usr/bin/gcc", 0, "", {0, 0}, 0, 0 },
    { "clang", "/usr/bin/clang", 0, "", {0, 0}, 0, 0 },
    { "cppcheck", "/usr/bin/cppcheck", 0, "", {0, 0}, 0, 0 },
};
#define NTOOLS (sizeof tools / sizeof *tools)

/* Where each physical line of the unit is, by its #line marks: clang's
 * messages name a declaration's physical line ("declared on line 26"). */
static int *cell_line_of;        /* per physical line: its cell line, or 0 */
static size_t unit_lines;

static void map_lines(const char *unit) {
    FILE *f = fopen(unit, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0, n = 0, alloc = 0;
    int next = 0;                /* the cell line of the next physical line, 0: not the cell */
    while (getline(&line, &cap, f) >= 0) {
        if (n + 2 > alloc) {
            int *p = realloc(cell_line_of, (alloc = alloc ? 2 * alloc : 4096) * sizeof *p);
            if (!p) break;
            cell_line_of = p;
        }
        int l;
        char file[64];
        if (sscanf(line, "#line %d \"%63[^\"]\"", &l, file) == 2) {
            cell_line_of[++n] = 0;
            next = strcmp(file, "cell") == 0 ? l : 0;
            continue;
        }
        cell_line_of[++n] = next;
        if (next) next++;
    }
    unit_lines = n;
    free(line);
    fclose(f);
}

/* MSG with "on line N" (a physical line of the unit) made the cell's. */
static void cell_lines_in(char *msg, size_t size) {
    char *at = strstr(msg, "on line ");
    if (!at) return;
    char *end;
    long l = strtol(at + 8, &end, 10);
    if (l <= 0 || (size_t)l > unit_lines || !cell_line_of[l]) return;
    char rest[500];
    snprintf(rest, sizeof rest, "%s", end);
    snprintf(at, size - (size_t)(at - msg), "on line %d%s", cell_line_of[l], rest);
}

static double ms_since(struct timespec t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6;
}

static void start(tool *t, const char *unit, const char *dir) {
    snprintf(t->out, sizeof t->out, "%s/%s.out", dir, t->name);
    const char *gcc[] = { t->path, "-x", "c", "-std=gnu11", "-O2", "-c", "-o", "/dev/null",
                          "-Wreturn-local-addr", "-Wdangling-pointer=2", "-fanalyzer",
                          "-fdiagnostics-format=json", unit, NULL };
    const char *clang[] = { t->path, "--analyze", "-x", "c", "-std=gnu11", "-o", "/dev/null",
                            "-Xanalyzer", "-analyzer-output=text", "-Wno-everything",
                            "-Wreturn-stack-address", unit, NULL };
    const char *cppcheck[] = { t->path, "--quiet", "--enable=warning", "--inline-suppr",
                               "--template={file}:{line}:{id}:{message}", unit, NULL };
    const char **argv = !strcmp(t->name, "gcc") ? gcc : !strcmp(t->name, "clang") ? clang : cppcheck;
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
    /* fork, not posix_spawn: each tool dies with the analyser (an
     * interrupted cell kills the analyser, and so its compilers) */
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int out = open(t->out, O_WRONLY | O_CREAT | O_TRUNC, 0600), null = open("/dev/null", O_RDWR);
        if (out < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        execv(t->path, (char **)argv);
        _exit(127);
    }
    t->pid = pid > 0 ? pid : 0;
}

void tools_start(const char *unit, const char *dir) {
    map_lines(unit);
    for (size_t i = 0; i < NTOOLS; i++) {
        tools[i].pid = 0;
        if (access(tools[i].path, X_OK) == 0) start(&tools[i], unit, dir);
    }
}

/* ------------------------------------------------------------ messages */

/* The first 'quoted' name in MSG, into NAME. */
static void quoted(const char *msg, char *name, size_t n) {
    name[0] = 0;
    const char *a = strchr(msg, '\'');
    const char *b = a ? strchr(a + 1, '\'') : NULL;
    if (a && b && (size_t)(b - a) < n) snprintf(name, n, "%.*s", (int)(b - a - 1), a + 1);
}

/* A tool's message as a verdict and a kind, or NULL when it is not about
 * where memory goes. */
static const char *classify(const char *msg, const char *id, const char **kind) {
    *kind = "local";
    if (strstr(id, "malloc-leak") || strstr(id, "unix.Malloc") || !strcmp(id, "memleak") ||
        strstr(msg, "leak of memory") || strstr(msg, "Potential memory leak")) {
        *kind = "alloc";
        return strstr(msg, "eak") ? "leaks" : NULL;
    }
    if (strstr(id, "return-local-addr") || strstr(id, "return-stack-address") ||
        !strcmp(id, "returnDanglingLifetime") || !strcmp(id, "returnAddressOfAutoVariable") ||
        !strcmp(id, "returnLocalVariable") ||
        (strstr(id, "StackAddressEscape") && strstr(msg, "returned to caller")))
        return "escapes to caller";
    if (strstr(id, "StackAddressEscape") && strstr(msg, "global variable")) return "escapes to global";
    if (strstr(id, "StackAddressEscape")) return "escapes through parameter";
    if (strstr(id, "dangling-pointer")) {
        const char *in = strstr(msg, "' in '");
        if (in && (in[6] == '*' || strstr(in, "->") || strstr(in, "[")))
            return "escapes through parameter";
        return in ? "escapes to global" : "escapes to caller";
    }
    if (!strcmp(id, "autoVariables")) return "escapes through parameter";
    if (!strcmp(id, "danglingLifetime")) return "escapes to global";
    return NULL;
}

/* MSG with gcc's typographic quotes made plain, into OUT. */
static void plain_quotes(const char *msg, char *out, size_t n) {
    size_t j = 0;
    for (const char *p = msg; *p && j + 1 < n; p++) {
        if (!strncmp(p, "\xe2\x80\x98", 3) || !strncmp(p, "\xe2\x80\x99", 3)) {
            out[j++] = '\'';
            p += 2;
        } else {
            out[j++] = *p;
        }
    }
    out[j] = 0;
}

/* Add a fact, or merge it into one the same on LINE (another tool's). */
static void add(json_t *facts, const char *toolname, int line, const char *raw, const char *id) {
    char msg[500];
    plain_quotes(raw, msg, sizeof msg);
    cell_lines_in(msg, sizeof msg);
    const char *kind, *verdict = classify(msg, id, &kind);
    if (!verdict || line <= 0) return;
    char name[128];
    quoted(msg, name, sizeof name);
    if (!name[0] && !strcmp(id, "memleak") && strchr(msg, ':'))       /* "Memory leak: p" */
        snprintf(name, sizeof name, "%s", strchr(msg, ':') + 2);
    size_t i;
    json_t *f;
    json_array_foreach(facts, i, f) {
        const char *src = json_string_value(json_object_get(f, "source"));
        const char *fname = json_string_value(json_object_get(f, "name"));
        if (!strcmp(src, "ckernel") || json_integer_value(json_object_get(f, "line")) != line ||
            strcmp(json_string_value(json_object_get(f, "verdict")), verdict) ||
            (name[0] && fname[0] && strcmp(fname, name)))
            continue;
        if (!strstr(src, toolname)) {
            char merged[200];
            snprintf(merged, sizeof merged, "%s, %s", src, toolname);
            json_object_set_new(f, "source", json_string(merged));
        }
        if (!fname[0] && name[0]) json_object_set_new(f, "name", json_string(name));
        return;
    }
    const char *fn = analysis_function_at(line);
    char detail[600];
    snprintf(detail, sizeof detail, "%s [%s]", msg, id);
    json_array_append_new(facts, json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}",
                          "function", fn ? fn : "", "name", name, "kind", kind, "line", line,
                          "verdict", verdict, "detail", detail, "source", toolname));
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    char buf[8192];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, k, m);
    fclose(f);
    fclose(m);
    return s;
}

/* gcc's -fdiagnostics-format=json: [{kind, message, option, locations:[{caret:{file,line}}]}] */
static void parse_gcc(json_t *facts, const char *text) {
    json_t *all = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) {
        json_t *caret = json_object_get(json_array_get(json_object_get(d, "locations"), 0), "caret");
        const char *file = json_string_value(json_object_get(caret, "file"));
        const char *msg = json_string_value(json_object_get(d, "message"));
        const char *opt = json_string_value(json_object_get(d, "option"));
        if (!file || strcmp(file, "cell") || !msg || !opt) continue;
        add(facts, "gcc", (int)json_integer_value(json_object_get(caret, "line")), msg, opt);
    }
    json_decref(all);
}

/* clang: "cell:LINE:COL: warning: MESSAGE [checker]" */
static void parse_clang(json_t *facts, char *text) {
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int ln = 0, col = 0, used = 0;
        if (sscanf(line, "cell:%d:%d: warning: %n", &ln, &col, &used) < 2 || !used) continue;
        char *msg = line + used;
        char *id = strrchr(msg, '[');
        if (!id) continue;
        *id++ = 0;
        for (char *e = id - 2; e >= msg && *e == ' '; e--) *e = 0;
        char *end = strchr(id, ']');
        if (end) *end = 0;
        if (!strncmp(id, "-W", 2)) id += 2;
        add(facts, "clang", ln, msg, id);
    }
}

/* cppcheck: "FILE:LINE:ID:MESSAGE", FILE "cell" where #line says so. */
static void parse_cppcheck(json_t *facts, char *text) {
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *a = strchr(line, ':');
        if (!a || strncmp(line, "cell:", 5)) continue;
        int ln = atoi(a + 1);
        char *b = strchr(a + 1, ':');
        char *c = b ? strchr(b + 1, ':') : NULL;
        if (!c) continue;
        *c = 0;
        add(facts, "cppcheck", ln, c + 1, b + 1);
    }
}

void tools_finish(json_t *facts, json_t *status, double timeout_ms) {
    for (size_t i = 0; i < NTOOLS; i++) {
        tool *t = &tools[i];
        if (!t->pid) {
            json_array_append_new(status, json_pack("{s:s, s:s}", "tool", t->name,
                                                    "status", "not installed"));
            continue;
        }
        int st = 0, done = 0;
        while (!(done = waitpid(t->pid, &st, WNOHANG)) && ms_since(t->t0) < timeout_ms) usleep(2000);
        t->ms = ms_since(t->t0);
        if (!done) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &st, 0);
            json_array_append_new(status, json_pack("{s:s, s:s, s:f}", "tool", t->name, "status", "timed out",
                                                    "ms", t->ms));
            continue;
        }
        char *text = slurp(t->out);
        if (text && !strcmp(t->name, "gcc")) parse_gcc(facts, text);
        else if (text && !strcmp(t->name, "clang")) parse_clang(facts, text);
        else if (text) parse_cppcheck(facts, text);
        free(text);
        unlink(t->out);
        json_array_append_new(status, json_pack("{s:s, s:s, s:f}", "tool", t->name, "status", "ran",
                                                "ms", t->ms));
    }
}
