/* magics.c - parse the `%` lines at the top of a cell (see magics.h).
 *
 * Owns the syntax of magics and their help text; what each one does is
 * worker/main.c's business. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "magics.h"

static void free_words(char **v) {
    for (size_t i = 0; v && v[i]; i++) free(v[i]);
    free(v);
}

/* Split ARGS into a NULL-terminated vector of words, as a shell would:
 * blanks separate, '...' and "..." quote, a backslash escapes one char. */
static char **split_words(const char *args) {
    size_t cap = 8, n = 0;
    char **v = calloc(cap, sizeof *v);
    char *word = malloc(strlen(args) + 1);
    const char *p = args;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        size_t len = 0;
        char quote = 0;
        for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
            if (quote && *p == quote) quote = 0;
            else if (!quote && (*p == '\'' || *p == '"')) quote = *p;
            else if (*p == '\\' && p[1] && quote != '\'') word[len++] = *++p;
            else word[len++] = *p;
        }
        if (n + 2 > cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
        }
        v[n++] = strndup(word, len);
    }
    v[n] = NULL;
    free(word);
    return v;
}

static int fail(magics *m, const char *fmt, const char *what) {
    char *e = NULL;
    if (asprintf(&e, fmt, what) < 0) e = NULL;
    m->error = e;
    return -1;
}

/* Options a cell cannot honour: it is always compiled to memory and run
 * in the worker beside earlier cells. Each says why, rather than being
 * accepted and ignored (tcc would do what it asks). */
static const struct { const char *option; int prefix; const char *why; } refused_options[] = {
    { "-b", 0, "bounds checking is %%check: a cell that starts with it is compiled with -b and "
               "run with ckernel's memory checker behind it (tcc's own needs tcc -run)" },
    { "-bt", 1, "backtraces come from ckernel's crash report, not from tcc's run-time" },
    { "-run", 0, "a cell is always compiled to memory and run" },
    { "-c", 0, "a cell is always compiled to memory and run, never to a file" },
    { "-E", 0, "a cell is always compiled to memory and run, never only preprocessed" },
    { "-o", 1, "a cell is always compiled to memory and run, never to a file" },
    { "-shared", 0, "a cell is always compiled to memory and run, never to a library" },
    { "-r", 0, "a cell is always compiled to memory and run, never to an object" },
    { "-static", 0, "cells link against the worker's own libraries" },
    { "-M", 1, "a cell is always compiled to memory and run; there are no dependency files" },
    { NULL, 0, NULL }
};

/* The error for the first option of FLAGS that a cell cannot honour, or
 * NULL when there is none (a new string: the caller frees it). */
static char *refused_cflag(const char *flags) {
    char **words = split_words(flags);
    char *e = NULL;
    for (size_t i = 0; words[i] && !e; i++)
        for (int k = 0; refused_options[k].option && !e; k++) {
            const char *o = refused_options[k].option;
            size_t n = strlen(o);
            if (refused_options[k].prefix ? strncmp(words[i], o, n) == 0 : strcmp(words[i], o) == 0)
                if (asprintf(&e, "%%cflags %s: not supported: %s", words[i], refused_options[k].why) < 0) e = NULL;
        }
    for (size_t i = 0; words[i]; i++) free(words[i]);
    free(words);
    return e;
}

/* ---- one parser a magic: REST is the text after the name; 0, or -1 with m->error ---- */

static int parse_cflags(magics *m, const char *rest) {
    if ((m->error = refused_cflag(rest))) return -1;
    if (strncmp(rest, "--session", 9) == 0 && (rest[9] == 0 || rest[9] == ' ')) {
        const char *f = rest + 9;
        while (*f == ' ') f++;
        free(m->session_cflags);
        m->session_cflags = strdup(f);
    } else {
        free(m->cflags);
        m->cflags = strdup(rest);
    }
    return 0;
}

static int parse_lib(magics *m, const char *rest) {
    if (!*rest) return fail(m, "%s", "%lib needs library names, e.g. %lib m pthread");
    free_words(m->libs);                 /* a repeated magic: the last one counts */
    m->libs = split_words(rest);
    return 0;
}

static int parse_args(magics *m, const char *rest) {
    free_words(m->args);
    m->args = split_words(rest);
    return 0;
}

static int parse_who(magics *m, const char *rest) { (void)rest; m->who = 1; return 0; }
static int parse_reset(magics *m, const char *rest) { (void)rest; m->reset = 1; return 0; }
static int parse_help(magics *m, const char *rest) { (void)rest; m->help = 1; return 0; }

/* %escape analyses and then runs the cell, %%escape only analyses it. */
static int parse_escape(magics *m, const char *rest, int level, const char *name) {
    if (*rest) return fail(m, "%s takes nothing after it", name);
    m->escape = level;
    return 0;
}
static int parse_escape_run(magics *m, const char *rest) { return parse_escape(m, rest, 1, "%escape"); }
static int parse_escape_only(magics *m, const char *rest) { return parse_escape(m, rest, 2, "%%escape"); }

static int parse_measure(magics *m, const char *rest) {
    static const char *const modes[] = { "off", "on", "verbose" };
    for (int i = 0; i < 3; i++)
        if (strcmp(rest, modes[i]) == 0) return m->measure = (measure_level)i, 0;
    return fail(m, "%%measure takes off, on or verbose, not '%s'", rest);
}

static int parse_leaks(magics *m, const char *rest) {
    if (strcmp(rest, "off") == 0 || strcmp(rest, "on") == 0) return m->leaks = strcmp(rest, "on") == 0, 0;
    return fail(m, "%%leaks takes off or on, not '%s'", rest);
}

/* A number >= 0 (a whole one when WHOLE) for %NAME, in UNIT: 0, or -1 with the error. */
static int parse_number(magics *m, const char *rest, const char *name, const char *unit, int whole,
                        double *out) {
    char *e;
    double v = strtod(rest, &e);
    if (!*rest || *e || !(v >= 0) || (whole && v != (double)(long)v)) {
        if (asprintf(&m->error, "%%%s takes %s, not '%s'", name, unit, rest) < 0) m->error = NULL;
        return -1;
    }
    *out = v;
    return 0;
}

/* The same for a field that holds a whole number. */
static int parse_count(magics *m, const char *rest, const char *name, const char *unit, long *out) {
    double v;
    if (parse_number(m, rest, name, unit, 1, &v) < 0) return -1;
    *out = (long)v;
    return 0;
}

static int parse_timeout(magics *m, const char *rest) { return parse_number(m, rest, "timeout", "seconds", 0, &m->timeout); }
static int parse_cpu(magics *m, const char *rest) { return parse_number(m, rest, "cpu", "seconds", 0, &m->cpu); }
static int parse_memory(magics *m, const char *rest) { return parse_count(m, rest, "memory", "MiB", &m->memory_mib); }
static int parse_output(magics *m, const char *rest) { return parse_count(m, rest, "output", "MiB", &m->output_mib); }
static int parse_processes(magics *m, const char *rest) {
    return parse_count(m, rest, "processes", "a number", &m->processes);
}

static int parse_check(magics *m, const char *rest) {
    if (*rest) return fail(m, "%%%%check takes no arguments, not '%s'", rest);
    m->check = 1;
    return 0;
}

/* %%check: tcc instruments the cell (-b, after any %cflags), and
 * runtime/checked.c answers its calls. */
static int add_check_option(magics *m) {
    char *with = NULL;
    if (asprintf(&with, "%s -b", m->cflags ? m->cflags : "") < 0) return fail(m, "%s", "out of memory");
    free(m->cflags);
    m->cflags = with;
    return 0;
}

static int parse_file(magics *m, const char *rest) {
    if (!*rest) return fail(m, "%s", "%%file needs a file name: %%file NAME");
    m->file = strdup(rest);
    return 0;
}

/* %%profile [--hz N] [--heap] [--export NAME] (the cell runs as usual). */
static int parse_profile(magics *m, const char *rest) {
    char **w = split_words(rest);
    int rc = 0;
    m->profile = 1;
    for (size_t i = 0; w[i] && rc == 0; i++) {
        char *e;
        if (!strcmp(w[i], "--heap")) {
            m->profile = 2;
        } else if (!strcmp(w[i], "--hz") && w[i + 1]) {
            long hz = strtol(w[++i], &e, 10);
            if (*e || hz < 1 || hz > 10000) rc = fail(m, "%%%%profile --hz takes 1 to 10000, not '%s'", w[i]);
            m->profile_hz = (int)hz;
        } else if (!strcmp(w[i], "--export") && w[i + 1]) {
            free(m->profile_export);
            m->profile_export = strdup(w[++i]);
        } else {
            rc = fail(m, "%%%%profile takes --hz N, --heap and --export NAME, not '%s'", w[i]);
        }
    }
    free_words(w);
    return rc;
}

static int parse_cc(magics *m, const char *rest) {   /* its words are cc.c's to read */
    free(m->cc);
    m->cc = strdup(rest);
    return 0;
}

static int parse_asm(magics *m, const char *rest) {
    if (!*rest || strpbrk(rest, " \t")) return fail(m, "%s", "%asm takes one function name: %asm NAME");
    free(m->asm_name);
    free(m->profile_export);
    m->asm_name = strdup(rest);
    return 0;
}

/* The magics: one row each. NAME is what follows the '%' ("%file" is the
 * cell magic %%file); USAGE and HELP are the %help line (and the README's
 * table, which tests/protocol/test_cells.py checks against %help). A row
 * without a parser is a second help line of the magic above it. TAKES_BODY:
 * the rest of the cell is the magic's, not C. Adding a magic is one row
 * here, its parser above and the field it sets in magics.h. */
static const struct magic_def {
    const char *name, *usage, *help;
    int (*parse)(magics *m, const char *rest);
    int takes_body;
} magic_table[] = {
    { "cflags", "%cflags FLAGS", "compiler options for this cell (e.g. -DNDEBUG -Wall)", parse_cflags, 0 },
    { NULL, "%cflags --session FLAGS", "... for this and every later cell (no FLAGS: clear them)", NULL, 0 },
    { "lib", "%lib NAME...", "link libraries for the session, as -lNAME (e.g. %lib m)", parse_lib, 0 },
    { "args", "%args ARG...", "argv[1..] for a main() that this cell defines", parse_args, 0 },
    { "who", "%who", "list what the session defines, with types", parse_who, 0 },
    { "reset", "%reset", "forget every definition of the session", parse_reset, 0 },
    { "measure", "%measure off|on|verbose", "the measurement line under each cell", parse_measure, 0 },
    { "leaks", "%leaks off|on", "report blocks nothing reaches any more when each cell ends (on)",
      parse_leaks, 0 },
    { "timeout", "%timeout SECONDS", "stop any cell that compiles and runs longer (0: no limit)", parse_timeout, 0 },
    { "memory", "%memory MIB", "memory cells may map, beyond the worker's own (0: no limit)", parse_memory, 0 },
    { "output", "%output MIB", "output a cell may print before it is cut (0: no limit)", parse_output, 0 },
    { "cpu", "%cpu SECONDS", "CPU time any cell may use (0: no limit)", parse_cpu, 0 },
    { "processes", "%processes N", "processes cells may start beyond those running (0: no limit)",
      parse_processes, 0 },
    { "%file", "%%file NAME", "write the rest of the cell to the file NAME", parse_file, 1 },
    { "%cc", "%%cc gcc|clang [FLAGS]", "compile this cell with gcc or clang (e.g. %%cc gcc -O2)", parse_cc, 0 },
    { NULL, "%%cc ... --remarks --asm", "... with the optimiser's remarks, with the machine code", NULL, 0 },
    { "asm", "%asm NAME", "the machine code of function NAME, with its cell lines", parse_asm, 0 },
    { "%check", "%%check", "run the cell under the memory checker (a memory bug: MemoryError)",
      parse_check, 0 },
    { "%profile", "%%profile [--hz N]", "where the cell's CPU time goes: flame graph, functions, lines",
      parse_profile, 0 },
    { NULL, "%%profile --heap", "... where it allocates: every allocation charged to its call stack", NULL, 0 },
    { NULL, "%%profile --export NAME", "... also NAME.folded and NAME.speedscope.json", NULL, 0 },
    { "escape", "%escape", "where each address goes (escape analysis), then run the cell", parse_escape_run, 0 },
    { "%escape", "%%escape", "the escape analysis only: the cell does not run", parse_escape_only, 0 },
    { "help", "%help", "this list", parse_help, 0 },
};
#define N_MAGICS (sizeof magic_table / sizeof magic_table[0])

const char *magics_help(void) {
    static char text[4096];
    if (text[0]) return text;
    size_t n = (size_t)snprintf(text, sizeof text, "Magics: lines at the top of a cell that start with %%.\n");
    for (size_t i = 0; i < N_MAGICS && n < sizeof text; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "  %-24s %s\n", magic_table[i].usage, magic_table[i].help);
    return text;
}

static const struct magic_def *find_magic(const char *name) {
    for (size_t i = 0; i < N_MAGICS; i++)
        if (magic_table[i].name && strcmp(magic_table[i].name, name) == 0) return &magic_table[i];
    return NULL;
}

/* A magic below C is a mistake C would report obscurely: say it. */
static int magic_below_c(magics *m) {
    int lineno = 1;
    for (const char *q = m->code; *q; q++) {
        if (q == m->code || q[-1] == '\n') {
            const char *t = q;
            while (*t == ' ' || *t == '\t') t++;
            if (t[0] == '%' && (isalpha((unsigned char)t[1]) || (t[1] == '%' && isalpha((unsigned char)t[2])))) {
                char what[64];
                size_t n = strcspn(t, " \t\n");
                snprintf(what, sizeof what, "%.*s", (int)(n < 40 ? n : 40), t);
                char *e = NULL;
                if (asprintf(&e, "line %d: %s: magics go at the top of the cell, before any C", lineno, what) < 0)
                    e = NULL;
                m->error = e;
                return -1;
            }
        }
        if (*q == '\n') lineno++;
    }
    return 0;
}

int magics_parse(const char *code, magics *m) {
    memset(m, 0, sizeof *m);
    m->timeout = -1;
    m->memory_mib = -1;
    m->output_mib = -1;
    m->cpu = -1;
    m->processes = -1;
    m->measure = MEASURE_UNCHANGED;
    m->leaks = -1;
    m->code = strdup(code);
    char *p = m->code;
    for (;;) {
        char *line = p;
        while (*line == ' ' || *line == '\t') line++;
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len == 0 && end) { p = end + 1; continue; }          /* blank lines before magics */
        if (*line != '%') break;
        char text[4096];
        snprintf(text, sizeof text, "%.*s", (int)len, line);
        while (len && (text[len - 1] == ' ' || text[len - 1] == '\r' || text[len - 1] == '\t')) text[--len] = 0;
        char *name = text + 1, *rest = name;
        while (*rest && *rest != ' ' && *rest != '\t') rest++;
        if (*rest) *rest++ = 0;
        while (*rest == ' ' || *rest == '\t') rest++;

        const struct magic_def *def = find_magic(name);
        if (!def) return fail(m, "unknown magic %%%s (%%help lists them)", name);
        if (def->parse(m, rest) < 0) return -1;
        if (def->takes_body) {              /* the rest of the cell is the magic's */
            char *body = end ? end + 1 : line + len;
            memmove(m->code, body, strlen(body) + 1);
            return 0;
        }
        /* blank the magic line so the cell's line numbers stay */
        memset(line, ' ', len);
        if (!end) break;
        p = end + 1;
    }
    if (m->check && m->cc)
        return fail(m, "%s", "%%check and %%cc do not combine: the checker answers the calls tcc's -b "
                             "puts in the cell's code");
    if (m->check && add_check_option(m) < 0) return -1;
    return magic_below_c(m);
}

void magics_free(magics *m) {
    free(m->code);
    free(m->cflags);
    free(m->session_cflags);
    free_words(m->libs);
    free_words(m->args);
    free(m->file);
    free(m->cc);
    free(m->asm_name);
    free(m->profile_export);
    free(m->error);
    memset(m, 0, sizeof *m);
}
