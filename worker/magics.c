/* magics.c - parse the `%` lines at the top of a cell (see magics.h).
 *
 * Owns the syntax of magics and their help text; what each one does is
 * worker/main.c's business. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "magics.h"

const char *magics_help(void) {
    return
        "Magics: lines at the top of a cell that start with %.\n"
        "  %cflags FLAGS            compiler options for this cell (e.g. -DNDEBUG -Wall)\n"
        "  %cflags --session FLAGS  ... for this and every later cell (no FLAGS: clear them)\n"
        "  %lib NAME...             link libraries for the session, as -lNAME (e.g. %lib m)\n"
        "  %args ARG...             argv[1..] for a main() that this cell defines\n"
        "  %who                     list what the session defines, with types\n"
        "  %reset                   forget every definition of the session\n"
        "  %measure off|on|verbose  the measurement line under each cell\n"
        "  %timeout SECONDS         stop any cell that compiles and runs longer (0: no limit)\n"
        "  %memory MIB              memory cells may map, beyond the worker's own (0: no limit)\n"
        "  %output MIB              output a cell may print before it is cut (0: no limit)\n"
        "  %cpu SECONDS             CPU time any cell may use (0: no limit)\n"
        "  %processes N             processes cells may start beyond those running (0: no limit)\n"
        "  %%file NAME              write the rest of the cell to the file NAME\n"
        "  %escape                  where each address goes (escape analysis), then run the cell\n"
        "  %%escape                 the escape analysis only: the cell does not run\n"
        "  %help                    this list\n";
}

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
    { "-b", 0, "bounds checking needs tcc's own run-time (tcc -run wires it in); cells run in the "
               "worker, whose malloc counts the heap, and earlier cells' pointers would go unchecked" },
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

int magics_parse(const char *code, magics *m) {
    memset(m, 0, sizeof *m);
    m->timeout = -1;
    m->memory_mib = -1;
    m->output_mib = -1;
    m->cpu = -1;
    m->processes = -1;
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

        if (strcmp(name, "%file") == 0) {
            if (!*rest) return fail(m, "%s", "%%file needs a file name: %%file NAME");
            m->file = strdup(rest);
            /* the file's content is everything after this line */
            char *body = end ? end + 1 : line + len;
            memmove(m->code, body, strlen(body) + 1);
            return 0;
        } else if (strcmp(name, "cflags") == 0) {
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
        } else if (strcmp(name, "lib") == 0) {
            if (!*rest) return fail(m, "%s", "%lib needs library names, e.g. %lib m pthread");
            free_words(m->libs);                 /* a repeated magic: the last one counts */
            m->libs = split_words(rest);
        } else if (strcmp(name, "args") == 0) {
            free_words(m->args);
            m->args = split_words(rest);
        } else if (strcmp(name, "who") == 0) {
            m->who = 1;
        } else if (strcmp(name, "reset") == 0) {
            m->reset = 1;
        } else if (strcmp(name, "help") == 0) {
            m->help = 1;
        } else if (strcmp(name, "escape") == 0 || strcmp(name, "%escape") == 0) {
            if (*rest) return fail(m, "%%%s takes nothing after it", name);
            m->escape = name[0] == '%' ? 2 : 1;
        } else if (strcmp(name, "measure") == 0) {
            if (strcmp(rest, "off") && strcmp(rest, "on") && strcmp(rest, "verbose"))
                return fail(m, "%%measure takes off, on or verbose, not '%s'", rest);
            free(m->measure);
            m->measure = strdup(rest);
        } else if (strcmp(name, "timeout") == 0) {
            char *e;
            m->timeout = strtod(rest, &e);
            if (!*rest || *e || m->timeout < 0) return fail(m, "%%timeout takes seconds, not '%s'", rest);
        } else if (strcmp(name, "cpu") == 0) {
            char *e;
            m->cpu = strtod(rest, &e);
            if (!*rest || *e || m->cpu < 0) return fail(m, "%%cpu takes seconds, not '%s'", rest);
        } else if (strcmp(name, "processes") == 0) {
            char *e;
            m->processes = strtol(rest, &e, 10);
            if (!*rest || *e || m->processes < 0) return fail(m, "%%processes takes a number, not '%s'", rest);
        } else if (strcmp(name, "output") == 0) {
            char *e;
            m->output_mib = strtol(rest, &e, 10);
            if (!*rest || *e || m->output_mib < 0) return fail(m, "%%output takes MiB, not '%s'", rest);
        } else if (strcmp(name, "memory") == 0) {
            char *e;
            m->memory_mib = strtol(rest, &e, 10);
            if (!*rest || *e || m->memory_mib < 0) return fail(m, "%%memory takes MiB, not '%s'", rest);
        } else {
            return fail(m, "unknown magic %%%s (%%help lists them)", name);
        }
        /* blank the magic line so the cell's line numbers stay */
        memset(line, ' ', len);
        if (!end) break;
        p = end + 1;
    }
    /* A magic below C is a mistake C would report obscurely: say it. */
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

void magics_free(magics *m) {
    free(m->code);
    free(m->cflags);
    free(m->session_cflags);
    free_words(m->libs);
    free_words(m->args);
    free(m->file);
    free(m->measure);
    free(m->error);
    memset(m, 0, sizeof *m);
}
