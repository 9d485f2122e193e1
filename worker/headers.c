/* headers.c - preprocessed system headers, cached (see headers.h).
 *
 * Owns the cache and the child process that preprocesses. The text keeps
 * every #define and #undef in place, so macros behave in a cell as if the
 * headers had been included; only macros the compiler sets itself are
 * dropped, since redefining them draws warnings. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "headers.h"
#include "log.h"

#define HEADERS_CACHE 4
#define TCC_BINARY "/usr/bin/tcc"

extern char **environ;

static struct {
    char *key;              /* options + "\n" + directives */
    char *text;
    unsigned long used;
} cache[HEADERS_CACHE];
static unsigned long clock_tick;

/* Macros tcc defines itself: their redefinition would warn. */
static int is_builtin_macro_line(const char *line, size_t len) {
    static const char *const names[] = {
        "__STDC_VERSION__", "__BASE_FILE__", "__FILE__", "__LINE__", "__DATE__",
        "__TIME__", "__TIMESTAMP__", "__COUNTER__", "__STDC__", "__STDC_HOSTED__", NULL
    };
    const char *p;
    if (len > 8 && strncmp(line, "#define ", 8) == 0) p = line + 8;
    else if (len > 7 && strncmp(line, "#undef ", 7) == 0) p = line + 7;
    else return 0;
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(p, names[i], n) == 0 && (p[n] == ' ' || p[n] == '\n' || p[n] == '(' || p[n] == 0))
            return 1;
    }
    return 0;
}

/* Run `tcc OPTIONS -E -dD -P` on DIRECTIVES; the output, or NULL. */
static char *preprocess(const char *directives, const char *options) {
    int in = memfd_create("ckernel-headers", 0);
    if (in < 0) return NULL;
    size_t len = strlen(directives);
    if (write(in, directives, len) != (ssize_t)len) { close(in); return NULL; }
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) { close(in); return NULL; }

    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", in);
    char *argv[64];
    int argc = 0;
    argv[argc++] = "tcc";
    argv[argc++] = "-std=c11";
    char *opts = options ? strdup(options) : NULL;
    for (char *tok = opts ? strtok(opts, " \t") : NULL; tok && argc < 56; tok = strtok(NULL, " \t"))
        argv[argc++] = tok;
    argv[argc++] = "-E";
    argv[argc++] = "-dD";
    argv[argc++] = "-P";
    argv[argc++] = "-xc";
    argv[argc++] = path;
    argv[argc] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, TCC_BINARY, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(opts);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        close(in);
        return NULL;
    }
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 262144;
            char *t = realloc(text, cap);
            if (!t) break;
            text = t;
        }
        ssize_t r = read(out[0], text + n, cap - n - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(out[0]);
    close(in);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!text || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(text);
        return NULL;
    }
    /* Drop the compiler's own macros, keep all else in order. */
    size_t w = 0;
    for (size_t r = 0; r < n;) {
        const char *e = memchr(text + r, '\n', n - r);
        size_t l = e ? (size_t)(e - (text + r)) + 1 : n - r;
        if (!is_builtin_macro_line(text + r, l)) {
            memmove(text + w, text + r, l);
            /* tcc -dD prints the ## of a macro body as "<a6>" */
            if (l > 8 && strncmp(text + w, "#define ", 8) == 0)
                for (char *h = text + w; (h = memmem(h, l - (size_t)(h - (text + w)), "<a6>", 4)); ) {
                    memcpy(h, "##  ", 4);
                }
            w += l;
        }
        r += l;
    }
    text[w] = 0;
    return text;
}

const char *headers_text(const char *directives, const char *options) {
    char *key = NULL;
    if (asprintf(&key, "%s\n%s", options ? options : "", directives) < 0) return NULL;
    int lru = 0;
    for (int i = 0; i < HEADERS_CACHE; i++) {
        if (cache[i].key && strcmp(cache[i].key, key) == 0) {
            free(key);
            cache[i].used = ++clock_tick;
            return cache[i].text;
        }
        if (cache[i].used < cache[lru].used) lru = i;
    }
    char *text = preprocess(directives, options);
    if (!text) {
        free(key);
        return NULL;
    }
    free(cache[lru].key);
    free(cache[lru].text);
    cache[lru].key = key;
    cache[lru].text = text;
    cache[lru].used = ++clock_tick;
    return text;
}
