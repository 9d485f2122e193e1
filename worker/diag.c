/* diag.c - libtcc's messages in the cell's terms (session_impl.h).
 *
 * The unit libtcc compiles is the cell with the session's prelude around
 * it; its messages name lines of that unit ("cell:3", "<session>:120") or
 * none (the linker's). Turns each into the cell's line, its source and a
 * caret, or into the earlier definition it is about. Writes messages only:
 * whether a cell compiled is session.c's business. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lexer.h"
#include "literals.h"
#include "session_impl.h"

/* Text of cell line N (1-based), without its newline. */
static char *cell_line(const char *code, int n) {
    const char *p = code;
    for (int i = 1; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p) return NULL;
    const char *e = strchr(p, '\n');
    return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

/* The first cell line that uses NAME as a whole word, or 0. */
static int line_using(const char *code, const char *name) {
    size_t n = strlen(name);
    int line = 1;
    for (const char *p = code; *p; p++) {
        if (*p == '\n') { line++; continue; }
        if (strncmp(p, name, n) == 0 && (p == code || !lexer_ident_char((unsigned char)p[-1])) &&
            !lexer_ident_char((unsigned char)p[n]))
            return line;
    }
    return 0;
}

/* Report MSG (kind and text, e.g. "error: 'x' undeclared") at cell LINE:
 * the line's source, and a caret under the name the message quotes. */
static void report_at(diag_ctx *d, textbuf *out, int line, const char *msg, int is_error) {
    int last = session_count_lines(d->code) + 1;
    if (line > last) line = last;      /* the unit's own code after the cell: its end */
    textbuf_printf(out, "line %d: %s\n", line, msg);
    char *src = cell_line(d->code, line);
    if (src) {
        textbuf_printf(out, "%5d | %s\n", line, src);
        const char *q1 = strchr(msg, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
        if (q1 && q2 && q2 > q1 + 1) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
            const char *at = strstr(src, name);
            if (at) {
                textbuf_printf(out, "      | %*s^", (int)(at - src), "");
                for (size_t k = 1; k < strlen(name); k++) textbuf_puts(out, "~");
                textbuf_puts(out, "\n");
            }
        }
        free(src);
    }
    if (is_error && !d->first_error) {
        char *fe = NULL;
        if (asprintf(&fe, "line %d: %s", line, msg) >= 0) d->first_error = fe;
    }
}

/* The names the unit adds for a global X (__ck_size_X, __ck_len_X) are
 * the user's X in a message. */
static void hide_internal_names(char *msg) {
    static const char *const prefixes[] = { "__ck_size_", "__ck_len_", NULL };
    for (int i = 0; prefixes[i]; i++) {
        size_t n = strlen(prefixes[i]);
        for (char *p = strstr(msg, prefixes[i]); p; p = strstr(p, prefixes[i]))
            memmove(p, p + n, strlen(p + n) + 1);
    }
}

/* libtcc's messages look like "cell:3: error: 'x' undeclared"; some carry
 * "In file included from" lines first. Turn them into the cell's terms:
 * "line 3: error: ...", the source line, and a caret under the name the
 * message quotes when it can be found on that line. */
void diag_on_message(void *opaque, const char *msg) {
    diag_ctx *d = opaque;
    d->ndiags++;
    const char *last = strrchr(msg, '\n');
    const char *m = last ? last + 1 : msg;
    int is_error = strstr(m, ": warning: ") == NULL;
    textbuf *out = is_error ? &d->errors : &d->warnings;
    int line = 0;
    char kindmsg[1024], name[256];
    if (sscanf(m, "cell:%d: %1023[^\n]", &line, kindmsg) == 2) {
        hide_internal_names(kindmsg);
        report_at(d, out, line, kindmsg, is_error);
    } else if (sscanf(m, LITERAL_COPY_FILE ":%d: %1023[^\n]", &line, kindmsg) == 2) {
        if (!is_error) return;             /* said again where the literal is evaluated */
        hide_internal_names(kindmsg);
        report_at(d, out, line, kindmsg, is_error);
    } else if (sscanf(m, "<session>:%d: %1023[^\n]", &line, kindmsg) == 2) {
        /* a definition from an earlier cell no longer compiles */
        const char *what = "an earlier definition";
        for (size_t i = 0; i < d->nprelude; i++)
            if ((size_t)line >= d->entry_line[i]) {
                const entry *e = &d->s->e[d->entry_of[i]];
                if (e->nkeys) what = e->keys[0];
            }
        if (!is_error) return;             /* its warnings were shown when it was defined */
        textbuf_printf(out, "in '%s', defined in an earlier cell: %s\n", what, kindmsg);
        if (!d->first_error) {
            char *fe = NULL;
            if (asprintf(&fe, "'%s' (from an earlier cell): %s", what, kindmsg) >= 0) d->first_error = fe;
        }
    } else if (sscanf(m, "tcc: error: undefined symbol '%255[^']'", name) == 1 &&
               (line = line_using(d->code, name)) > 0) {
        /* the linker names no line: the first use is the one to fix */
        snprintf(kindmsg, sizeof kindmsg, "error: undefined symbol '%s' (no cell or library defines it)", name);
        report_at(d, out, line, kindmsg, 1);
    } else {
        if (!is_error) { textbuf_printf(out, "%s\n", msg); return; }
        textbuf_printf(out, "%s\n", msg);
        if (!d->first_error) d->first_error = strdup(m);
    }
    if (is_error) d->nerrors++;
}

void diag_reset(diag_ctx *d) {
    free(d->entry_line);
    free(d->entry_of);
    free(d->need);
    free(d->errors.s);
    free(d->warnings.s);
    free(d->first_error);
    const session *s = d->s;
    const cell *c = d->c;
    const char *code = d->code;
    const strmap *defined = d->defined;
    const unsigned char *dropped = d->dropped;
    memset(d, 0, sizeof *d);
    d->s = s;
    d->c = c;
    d->code = code;
    d->defined = defined;
    d->dropped = dropped;
}
