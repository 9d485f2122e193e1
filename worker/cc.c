/* cc.c - %%cc: cells compiled by gcc or clang, their remarks, listings and
 * line tables (see cc.h). */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cc.h"
#include "toolspawn.h"
#include "lexer.h"
#include "literals.h"
#include "textbuf.h"

extern char **environ;

/* ------------------------------------------------------------ the spec */

static char **split_words(const char *text, char **argv, int *argc, int max) {
    char *copy = strdup(text ? text : "");
    for (char *w = strtok(copy, " \t"); w && *argc < max; w = strtok(NULL, " \t"))
        argv[(*argc)++] = strdup(w);
    free(copy);
    return argv;
}

/* Flags a %%cc cell cannot honour, and why. */
static const struct { const char *flag; int prefix; const char *why; } refused[] = {
    { "-flto", 1, "link-time optimisation writes compiler IR, not machine code, to the object" },
    { "-fsanitize", 1, "the sanitizer's run-time library is not loaded in the worker" },
    { "-o", 0, "the kernel chooses the output" },
    { "-c", 0, "the cell is compiled to an object already" },
    { "-S", 0, "--asm lists the machine code" },
    { "-E", 0, "the cell is compiled, not only preprocessed" },
    { "-shared", 0, "the cell is linked into the session, not into a library" },
    { "-x", 1, "a cell is C" },
    { "-m32", 0, "the worker is a 64-bit process: a cell is x86-64 code" },
    { "-mx32", 0, "the worker is a 64-bit process: a cell is x86-64 code" },
    { "-m16", 0, "the worker is a 64-bit process: a cell is x86-64 code" },
};

/* The error for a refused flag among WORDS[1..N), or NULL. */
static char *refused_flag(char **words, int n) {
    for (int i = 1; i < n; i++)
        for (size_t k = 0; k < sizeof refused / sizeof *refused; k++) {
            size_t len = strlen(refused[k].flag);
            const char *f = refused[k].flag;
            if (refused[k].prefix ? strncmp(words[i], f, len) : strcmp(words[i], f)) continue;
            char *e = NULL;
            if (asprintf(&e, "%%%%cc %s: not supported: %s", words[i], refused[k].why) < 0)
                e = NULL;
            return e;
        }
    return NULL;
}

int cc_parse(const char *text, cc_spec *spec, char **error) {
    memset(spec, 0, sizeof *spec);
    *error = NULL;
    char *words[64];
    int n = 0;
    split_words(text, words, &n, 64);
    textbuf flags = {0};
    textbuf_puts(&flags, "");
    for (int i = 1; i < n; i++) {
        if (!strcmp(words[i], "--remarks")) spec->remarks = 1;
        else if (!strcmp(words[i], "--asm")) spec->show_asm = 1;
        else textbuf_printf(&flags, "%s%s", flags.len ? " " : "", words[i]);
    }
    if (n == 0 || (strcmp(words[0], "gcc") && strcmp(words[0], "clang"))) {
        const char *what = n ? words[0] : "";
        if (asprintf(error, "%%%%cc takes a compiler, gcc or clang, then its flags: "
                     "%%%%cc gcc -O2%s%s%s", n ? " (not '" : "", what, n ? "')" : "") < 0)
            *error = NULL;
        free(flags.s);
    } else if ((*error = refused_flag(words, n))) {
        free(flags.s);
    } else {
        spec->compiler = strdup(words[0]);
        spec->flags = flags.s;
    }
    for (int i = 0; i < n; i++) free(words[i]);
    return *error ? -1 : 0;
}

void cc_spec_free(cc_spec *spec) {
    free(spec->compiler);
    free(spec->flags);
    memset(spec, 0, sizeof *spec);
}

char *cc_label(const cc_spec *spec) {
    char *s = NULL;
    if (asprintf(&s, "%s%s%s", spec->compiler, *spec->flags ? " " : "", spec->flags) < 0) s = NULL;
    return s;
}

/* ------------------------------------------- tools in a private directory */

typedef struct { char path[400]; } tmpdir;

static const char *tmp_base(void) {
    const char *base = getenv("TMPDIR");
    return base && *base ? base : "/tmp";
}

/* Named by the process that made it, so that a snapshot taking over from
 * a worker that died during a compile can remove what it left. */
static int tmpdir_make(tmpdir *t) {
    snprintf(t->path, sizeof t->path, "%.300s/ckernel-cc-%d-XXXXXX", tmp_base(), (int)getpid());
    return mkdtemp(t->path) ? 0 : -1;
}

static void tmpdir_remove(const tmpdir *t) {
    DIR *d = opendir(t->path);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char p[700];
        snprintf(p, sizeof p, "%s/%s", t->path, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(t->path);
}

/* Whether process PID's command line names DIR (a tool of that compile,
 * not a process that reused its pid). */
static int runs_in(int pid, const tmpdir *dir) {
    char p[64], buf[8192];
    snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) return 0;
    for (ssize_t i = 0; i < n; i++) if (!buf[i]) buf[i] = ' ';
    buf[n] = 0;
    return strstr(buf, dir->path) != NULL;
}

/* The parent of process PID, or 0. */
static int parent_of(int pid) {
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%d/stat", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    buf[n > 0 ? n : 0] = 0;
    const char *paren = strrchr(buf, ')');
    int ppid = 0;
    return paren && sscanf(paren + 2, "%*c %d", &ppid) == 1 ? ppid : 0;
}

/* A tool still running from DIR (its pid written there when it started)
 * is killed, and its children (cc1, as) first: a compile whose worker
 * was interrupted would otherwise go on, orphaned, for as long as it takes. */
static void tool_kill(const tmpdir *t) {
    char p[700], buf[32] = "";
    snprintf(p, sizeof p, "%s/pid", t->path);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    int tool = n > 0 ? atoi(buf) : 0;
    if (tool <= 1 || !runs_in(tool, t)) return;
    kill(tool, SIGSTOP);                    /* no new children meanwhile */
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
        int pid = atoi(e->d_name);
        if (pid > 1 && parent_of(pid) == tool) kill(pid, SIGKILL);
    }
    if (d) closedir(d);
    kill(tool, SIGKILL);
}

void cc_clean_after(int pid) {
    char prefix[64];
    int n = snprintf(prefix, sizeof prefix, "ckernel-cc-%d-", pid);
    DIR *d = opendir(tmp_base());
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, (size_t)n)) continue;
        tmpdir t;
        snprintf(t.path, sizeof t.path, "%.300s/%.90s", tmp_base(), e->d_name);
        tool_kill(&t);
        tmpdir_remove(&t);
    }
    if (d) closedir(d);
}

static int write_file(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    int ok = write(fd, data, len) == (ssize_t)len;
    return close(fd) == 0 && ok ? 0 : -1;
}

/* The whole file at PATH, NUL-terminated, its length in *LEN; or NULL. */
static char *read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    off_t end = lseek(fd, 0, SEEK_END);
    char *buf = end >= 0 ? malloc((size_t)end + 1) : NULL;
    if (buf && pread(fd, buf, (size_t)end, 0) != end) { free(buf); buf = NULL; }
    close(fd);
    if (buf) { buf[end] = 0; if (len) *len = (size_t)end; }
    return buf;
}

/* The worker's environment with LC_ALL=C: messages in plain ASCII
 * quotes, which diag.c finds names between; and TMPDIR=DIR, so that the
 * compiler's own temporary files go where cc_clean_after finds them. */
static char **tool_environ(const tmpdir *dir) {
    static char **env;
    static size_t tmp_slot;
    static char tmp_var[420];
    snprintf(tmp_var, sizeof tmp_var, "TMPDIR=%s", dir->path);
    if (env) return env;
    size_t n = 0;
    while (environ[n]) n++;
    env = calloc(n + 3, sizeof *env);
    if (!env) return environ;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LC_ALL=", 7) && strncmp(environ[i], "TMPDIR=", 7)) env[k++] = environ[i];
    env[k++] = "LC_ALL=C";
    tmp_slot = k;
    env[tmp_slot] = tmp_var;
    return env;
}

/* Run ARGV (found on PATH) with stdout and stderr into DIR/out; the
 * output in *OUT (caller frees). The exit status, or -1 with errno when
 * it could not start. */
static int run_tool(char *const *argv, const tmpdir *dir, char **out) {
    char path[512];
    snprintf(path, sizeof path, "%s/out", dir->path);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = spawn_tool(&pid, &fa, 1, 0, argv, tool_environ(dir));
    posix_spawn_file_actions_destroy(&fa);
    *out = NULL;
    if (rc != 0) { errno = rc; return -1; }
    char pid_path[512], pid_text[32];       /* for the snapshot, should the worker die now */
    snprintf(pid_path, sizeof pid_path, "%s/pid", dir->path);
    write_file(pid_path, pid_text, (size_t)snprintf(pid_text, sizeof pid_text, "%d", (int)pid));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    *out = read_file(path, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ------------------------------------------------------ the compiler */

/* One message line "FILE:LINE:COL: KIND: TEXT" split up; 0 if not one. */
typedef struct { char file[256], kind[32]; int line; const char *text; } message;

static int parse_message(const char *l, message *m) {
    for (const char *c = strchr(l, ':'); c; c = strchr(c + 1, ':')) {
        int line, col, used = 0;
        if (sscanf(c, ":%d:%d: %n", &line, &col, &used) < 2 || !used) continue;
        const char *k = c + used, *colon = strstr(k, ": ");
        if (!colon || (size_t)(colon - k) >= sizeof m->kind || (size_t)(c - l) >= sizeof m->file)
            return 0;
        snprintf(m->file, sizeof m->file, "%.*s", (int)(c - l), l);
        snprintf(m->kind, sizeof m->kind, "%.*s", (int)(colon - k), k);
        m->line = line;
        m->text = colon + 2;
        return 1;
    }
    return 0;
}

/* A remark at LINE, "__ck_run" called what it is, once. */
static void add_remark(textbuf *remarks, int line, const char *kind, const char *text) {
    textbuf one = {0};
    textbuf_printf(&one, "%d\t%s: ", line, kind);
    for (const char *p = text, *q; *p; p = q + 8) {
        q = strstr(p, "__ck_run");
        if (!q) { textbuf_printf(&one, "%s\n", p); break; }
        textbuf_printf(&one, "%.*s(the cell's statements)", (int)(q - p), p);
    }
    if (!remarks->s || !strstr(remarks->s, one.s)) textbuf_puts(remarks, one.s);
    free(one.s);
}

/* The compiler's output OUT, one line at a time, to DIAG in libtcc's form
 * and to REMARKS. How many errors were passed on. */
static int pass_messages(const char *compiler, char *out, compile_diag_fn diag, void *opaque,
                         textbuf *remarks) {
    int errors = 0;
    char msg[2048];
    for (char *l = out, *next; l && *l; l = next) {
        next = strchr(l, '\n');
        if (next) *next++ = 0;
        message m;
        if (!parse_message(l, &m)) {
            if (strstr(l, "error:")) {           /* the driver's: an unknown option */
                snprintf(msg, sizeof msg, "%s", l);
                diag(opaque, msg);
                errors++;
            }
            continue;
        }
        int is_error = strstr(m.kind, "error") != NULL, in_cell = !strcmp(m.file, "cell");
        in_cell |= is_error && !strcmp(m.file, LITERAL_COPY_FILE);     /* literals.h */
        if (in_cell && (!strcmp(m.kind, "optimized") || !strcmp(m.kind, "missed") ||
                        !strcmp(m.kind, "remark"))) {
            if (!strstr(m.text, "__ck_fini") && !strstr(m.text, "__ck_text_end"))
                add_remark(remarks, m.line, m.kind, m.text + strspn(m.text, " "));
        } else if (in_cell && (is_error || !strcmp(m.kind, "warning"))) {
            snprintf(msg, sizeof msg, "cell:%d: %s: %s", m.line, is_error ? "error" : "warning",
                     m.text);
            diag(opaque, msg);
        } else if (is_error && !strcmp(m.file, "<session>")) {
            snprintf(msg, sizeof msg, "<session>:%d: error: %s", m.line, m.text);
            diag(opaque, msg);
        } else if (is_error) {
            snprintf(msg, sizeof msg, "%s: error: %s:%d: %s", compiler, m.file, m.line, m.text);
            diag(opaque, msg);
        }
        errors += is_error;
    }
    return errors;
}

/* The compiler's command line for SRC -> OBJ. Strings in ARGV from [FIRST_OWNED]
 * are malloc'ed. */
static int compiler_argv(const cc_spec *spec, const char *options, const char *src, const char *obj,
                         char **argv, int max) {
    int n = 0, gcc = !strcmp(spec->compiler, "gcc");
    static char *fixed[] = { "-x", "c", "-c", "-g", "-gdwarf-4", "-fPIC",
                             "-fno-semantic-interposition", "-fno-omit-frame-pointer",
                             "-mno-omit-leaf-frame-pointer", NULL };
    argv[n++] = strdup(spec->compiler);
    for (int i = 0; fixed[i]; i++) argv[n++] = strdup(fixed[i]);
    if (gcc) {
        argv[n++] = strdup("-fdiagnostics-plain-output");
        argv[n++] = strdup("-falign-functions=16");   /* room to redirect each entry */
        /* every function in .text, in the unit's order: __ck_text_end, last,
         * then marks where the unit's code ends (no .text.startup, no .cold) */
        argv[n++] = strdup("-fno-reorder-functions");
        argv[n++] = strdup("-fno-reorder-blocks-and-partition");
        if (spec->remarks) argv[n++] = strdup("-fopt-info-optimized-missed");
    } else {
        argv[n++] = strdup("-fno-caret-diagnostics");
        argv[n++] = strdup("-fno-color-diagnostics");
        if (spec->remarks) {
            argv[n++] = strdup("-Rpass=.*");
            argv[n++] = strdup("-Rpass-missed=.*");
        }
    }
    split_words(options, argv, &n, max - 8);
    split_words(spec->flags, argv, &n, max - 8);
    argv[n++] = strdup(src);
    argv[n++] = strdup("-o");
    argv[n++] = strdup(obj);
    argv[n] = NULL;
    return n;
}

unsigned char *cc_compile(const cc_spec *spec, const char *options, const char *src,
                          compile_diag_fn diag, void *opaque, size_t *len, char **remarks) {
    *remarks = NULL;
    tmpdir dir;
    char msg[600], src_path[512], obj_path[512];
    if (tmpdir_make(&dir) < 0) {
        snprintf(msg, sizeof msg, "%s: error: no temporary directory: %s", spec->compiler,
                 strerror(errno));
        diag(opaque, msg);
        return NULL;
    }
    snprintf(src_path, sizeof src_path, "%s/cell.c", dir.path);
    snprintf(obj_path, sizeof obj_path, "%s/cell.o", dir.path);
    unsigned char *obj = NULL;
    char *argv[200], *out = NULL;
    int argc = compiler_argv(spec, options, src_path, obj_path, argv, 200);
    int status = write_file(src_path, src, strlen(src)) < 0 ? -1 : run_tool(argv, &dir, &out);
    if (status < 0) {
        snprintf(msg, sizeof msg, "%s: error: cannot run %s: %s (tools/deps.sh installs it)",
                 spec->compiler, spec->compiler, strerror(errno));
        diag(opaque, msg);
    } else {
        textbuf rem = {0};
        int errors = pass_messages(spec->compiler, out ? out : "", diag, opaque, &rem);
        *remarks = rem.s;
        if (status == 0) obj = (unsigned char *)read_file(obj_path, len);
        if (!obj && !errors && status == 0) {   /* --version, -###, -fsyntax-only, -M */
            snprintf(msg, sizeof msg, "%s: error: the compiler made no object file: one of the "
                     "cell's flags (%s) stops it before it compiles", spec->compiler, spec->flags);
            diag(opaque, msg);
        } else if (!obj && !errors) {
            snprintf(msg, sizeof msg, "%s: error: the compiler failed (exit status %d)",
                     spec->compiler, status);
            diag(opaque, msg);
        }
    }
    free(out);
    for (int i = 0; i < argc; i++) free(argv[i]);
    tmpdir_remove(&dir);
    return obj;
}

/* ----------------------------------------------------- objdump's view */

/* Text of CODE's line N (1-based), without its newline, in BUF. */
static const char *code_line(const char *code, int n, char *buf, size_t size) {
    const char *p = code;
    for (int i = 1; i < n && p; i++) if ((p = strchr(p, '\n'))) p++;
    if (!p || n < 1) { buf[0] = 0; return buf; }
    size_t l = strcspn(p, "\n");
    snprintf(buf, size, "%.*s", (int)(l < size ? l : size - 1), p);
    return buf;
}

/* Run objdump on OBJ with ARGS (NULL-terminated, before the file name):
 * its output (caller frees), or NULL. */
static char *objdump(const unsigned char *obj, size_t len, const char *const *args) {
    tmpdir dir;
    if (tmpdir_make(&dir) < 0) return NULL;
    char path[512], *argv[32], *out = NULL;
    snprintf(path, sizeof path, "%s/cell.o", dir.path);
    int n = 0;
    argv[n++] = "objdump";
    for (int i = 0; args[i] && n < 30; i++) argv[n++] = (char *)args[i];
    argv[n++] = path;
    argv[n] = NULL;
    if (write_file(path, obj, len) < 0 || run_tool(argv, &dir, &out) != 0) {
        free(out);
        out = NULL;
    }
    tmpdir_remove(&dir);
    return out;
}

/* The cell line an objdump -l line names ("/x/cell:12", "cell:3
 * (discriminator 1)"), 0 for another file's, -1 if L is not such a line. */
static int listing_line(const char *l) {
    const char *colon = strrchr(l, ':');
    if (!colon || strchr(l, '\t') || l[0] == ' ' || colon[1] < '0' || colon[1] > '9') return -1;
    size_t flen = (size_t)(colon - l);
    if (flen >= 4 && !strncmp(colon - 4, "cell", 4) && (flen == 4 || colon[-5] == '/'))
        return atoi(colon + 1);
    return 0;
}

/* The callee a relocation line names ("  1c: R_X86_64_PLT32 malloc-0x4"), in BUF; 0 if none. */
static int reloc_target(const char *l, char *buf, size_t size) {
    const char *r = strstr(l, "R_X86_64_");
    if (!r) return 0;
    r += strcspn(r, " \t");
    r += strspn(r, " \t");
    size_t n = strcspn(r, "+-@ \t");
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), r);
    return n > 0;
}

int cc_print_asm(const unsigned char *obj, size_t len, const char *name, const char *code,
                 const char *title) {
    char sel[300];
    snprintf(sel, sizeof sel, "--disassemble=%s", name);
    const char *args[] = { "-d", "-l", "-r", "--no-show-raw-insn", "-M", "intel", sel, NULL };
    char *out = objdump(obj, len, args);
    char head[300];
    snprintf(head, sizeof head, "<%s>:", name);
    char *at = out ? strstr(out, head) : NULL;
    if (!at) { free(out); return -1; }
    printf("%s\n", title);
    char src[512], target[256];
    int shown = -1;
    unsigned long insn = 0;                 /* the last instruction's offset */
    for (char *l = strchr(at, '\n'), *next; l && *++l; l = next) {
        next = strchr(l, '\n');
        if (next) *next = 0;
        int line = listing_line(l);
        if (line > 0 && line != shown) {
            printf("line %-4d| %s\n", line, code_line(code, line, src, sizeof src));
            shown = line;
        } else if (line == 0 && shown != 0) {
            printf("          | (the unit's own code: a header or the kernel's)\n");
            shown = 0;
        } else if (line < 0 && strstr(l, "R_X86_64_") && reloc_target(l, target, sizeof target)) {
            /* objdump also lists the relocations of the functions before NAME */
            if (strtoul(l + strspn(l, " \t"), NULL, 16) >= insn)
                printf("%*s<%s>\n", 16, "", target);
        } else if (line < 0 && strchr(l, '\t') && strchr(l, ':')) {
            char *tab = strchr(l, '\t');
            *tab = 0;
            insn = strtoul(l + strspn(l, " "), NULL, 16);
            printf("    %6s %s\n", l + strspn(l, " "), tab + 1);
        } else if (next && !*l) {
            break;                          /* the blank line after the function */
        }
        if (!next) break;
    }
    free(out);
    return 0;
}

/* ------------------------------------------------------------ remarks */

static int mentions_call(const char *line, const char *fn) {
    size_t n = strlen(fn);
    for (const char *p = strstr(line, fn); p; p = strstr(p + 1, fn)) {
        if (p > line && lexer_ident_char((unsigned char)p[-1])) continue;
        const char *q = p + n;
        while (*q == ' ') q++;
        if (*q == '(') return 1;
    }
    return 0;
}

/* Whether OBJ's listing calls FN from cell line LINE. */
static int calls_from(const char *listing, const char *fn, int line) {
    int at = -1;
    char target[256];
    for (const char *l = listing; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)strcspn(l, "\n"), l);
        int ln = listing_line(one);
        if (ln >= 0) at = ln;
        else if (at == line && reloc_target(one, target, sizeof target) && !strcmp(target, fn))
            return 1;
    }
    return 0;
}

void cc_print_remarks(const char *label, const char *code, const char *remarks,
                      const unsigned char *obj, size_t len) {
    const char *args[] = { "-d", "-l", "-r", NULL };
    char *listing = objdump(obj, len, args);
    int lines = 1;
    for (const char *p = code; *p; p++) lines += *p == '\n';
    printf("%s: optimisation remarks for this cell\n", label);
    int any = 0;
    char src[512];
    for (int line = 1; line <= lines; line++) {
        int shown = 0;
        const char *r = remarks;
        for (; r && *r; r = strchr(r, '\n') ? strchr(r, '\n') + 1 : NULL) {
            if (atoi(r) != line) continue;
            const char *text = strchr(r, '\t') + 1;
            text += strspn(text, " ");
            int n = (int)strcspn(text, "\n");
            if (!shown++) printf("line %-4d| %s\n", line, code_line(code, line, src, sizeof src));
            printf("          %.*s\n", n, text);
        }
        static const char *const allocs[] = { "malloc", "calloc", "realloc", "free", NULL };
        code_line(code, line, src, sizeof src);
        for (int i = 0; listing && allocs[i]; i++) {
            if (!mentions_call(src, allocs[i]) || calls_from(listing, allocs[i], line)) continue;
            if (!shown++) printf("line %-4d| %s\n", line, src);
            printf("          removed: no call to %s is left from this line in the machine code\n",
                   allocs[i]);
        }
        any += shown;
    }
    if (!any) printf("(none about this cell's lines)\n");
    free(listing);
}

/* ------------------------------------------------------- kept cells */

typedef struct {
    int count;
    char *code, *options, *label;
    unsigned char *obj;
    size_t len;
} kept_cell;

static struct { kept_cell *v; size_t n, cap; } kept;

void cc_keep(int count, const char *code, const char *options, const char *label,
             const unsigned char *obj, size_t len) {
    if (kept.n == kept.cap) {
        size_t cap = kept.cap ? 2 * kept.cap : 16;
        kept_cell *v = realloc(kept.v, cap * sizeof *v);
        if (!v) return;
        kept.v = v;
        kept.cap = cap;
    }
    kept_cell *k = &kept.v[kept.n++];
    k->count = count;
    k->code = strdup(code);
    k->options = strdup(options ? options : "");
    k->label = label ? strdup(label) : NULL;
    k->obj = obj ? malloc(len) : NULL;
    if (k->obj) memcpy(k->obj, obj, len);
    k->len = k->obj ? len : 0;
}

int cc_kept(int count, const char **code, const char **options, const char **label,
            const unsigned char **obj, size_t *len) {
    for (size_t i = kept.n; i-- > 0;) {
        const kept_cell *k = &kept.v[i];
        if (k->count != count) continue;
        *code = k->code;
        *options = k->options;
        *label = k->label;
        *obj = k->obj;
        *len = k->len;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------- line tables */

/* Symbol NAME of the relocatable object OBJ: its section's name and its
 * value. 0 if not there. */
static int find_symbol(const unsigned char *obj, size_t len, const char *name, const char **section,
                       unsigned long *value) {
    if (len < sizeof(Elf64_Ehdr) || memcmp(obj, ELFMAG, SELFMAG) != 0) return 0;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
    if (eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len ||
        eh->e_shstrndx >= eh->e_shnum)
        return 0;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
    const char *shstr = (const char *)obj + sh[eh->e_shstrndx].sh_offset;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
        if (sh[i].sh_offset + sh[i].sh_size > len) return 0;
        const Elf64_Sym *sym = (const Elf64_Sym *)(obj + sh[i].sh_offset);
        const char *str = (const char *)obj + sh[sh[i].sh_link].sh_offset;
        for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++) {
            if (strcmp(str + sym[k].st_name, name) || !sym[k].st_shndx ||
                sym[k].st_shndx >= eh->e_shnum)
                continue;
            *section = shstr + sh[sym[k].st_shndx].sh_name;
            *value = sym[k].st_value;
            return 1;
        }
    }
    return 0;
}

int cc_lines(const unsigned char *obj, size_t len, const char *const *names,
             const unsigned long *offsets, int *lines, size_t n) {
    tmpdir dir;
    if (tmpdir_make(&dir) < 0) return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/cell.o", dir.path);
    int rc = write_file(path, obj, len);
    for (size_t i = 0; i < n; i++) {
        const char *section;
        unsigned long value;
        lines[i] = 0;
        if (rc < 0 || !find_symbol(obj, len, names[i], &section, &value)) continue;
        char addr[32], *out = NULL;
        snprintf(addr, sizeof addr, "0x%lx", value + offsets[i]);
        char *argv[] = { "addr2line", "-e", path, "-j", (char *)section, addr, NULL };
        if (run_tool(argv, &dir, &out) == 0 && out) {
            out[strcspn(out, " \n")] = 0;
            int line = listing_line(out);
            lines[i] = line > 0 ? line : 0;
        }
        free(out);
    }
    tmpdir_remove(&dir);
    return rc;
}
