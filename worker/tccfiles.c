/* tccfiles.c - libtcc's files in memory.
 *
 * libtcc 0.9.27 reads and writes objects only through files: each cell's
 * object went out to a memfd (tcc_output_file), back in, out again once
 * laid out (layout.c) and in once more (tcc_add_file), and the linking
 * state opened tcc's libtcc1.a and the stand-in libc.so: some 45 system
 * calls a cell, a fifth of the compile of `n++;`. The Makefile renames
 * libtcc's open, read, lseek, close, unlink and fdopen to the functions
 * below: a file named under TCCFILES_DIR is memory (the unit's object,
 * written through a stdio cookie into the compiler's memory), libtcc1.a
 * and the stand-in libc.so are read once a session, and every other file
 * (headers, a cell's #include, %%cc's objects) is the real one. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "scratch.h"
#include "tccfiles.h"

void *ck_tcc_realloc(void *p, size_t size);

/* A file in memory. */
typedef struct {
    const char *name;
    const unsigned char *data;
    size_t len, cap;          /* cap: bytes of DATA owned (written by libtcc) */
    size_t pos;               /* of its one reader: libtcc reads a file at a time */
    int open;
} mem_file;

/* Descriptors of memory files: far above any real one (the kernel caps
 * descriptors at fs.nr_open, at most 2^30; 1,048,576 by default). */
#define MEM_FD_BASE (1 << 29)

/* The unit's object: written and read within one compile, so it may as
 * well be zero after a fork, and it lives in the section of libtcc's
 * statics that a snapshot does not copy (compile.c): writing it costs no
 * fault. "#" ends the assembler's line: the section stays NOBITS. */
static mem_file unit_object __attribute__((section("ck_tcc_bss,\"aw\",@nobits#")));

/* Libraries the linking state opens for every cell, read once: written
 * at the first cell, then only read. */
#define MAX_CACHED 4
static mem_file cached[MAX_CACHED];
static char stub_path[4200];

void tccfiles_cache_library(const char *path) {
    snprintf(stub_path, sizeof stub_path, "%s", path);
}

/* Whether PATH is a library read once a session: tcc's runtime library,
 * and the stand-in libc.so (neither changes under a session). */
static int cacheable(const char *path) {
    static const char runtime[] = "/libtcc1.a";
    size_t n = strlen(path), r = sizeof runtime - 1;
    return (n >= r && !strcmp(path + n - r, runtime)) ||
           (*stub_path && !strcmp(path, stub_path));
}

static mem_file *cached_library(const char *path) {
    for (int i = 0; i < MAX_CACHED && cached[i].name; i++)
        if (!strcmp(cached[i].name, path)) return &cached[i];
    int slot = 0;
    while (slot < MAX_CACHED && cached[slot].name) slot++;
    if (slot == MAX_CACHED) return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    off_t end = lseek(fd, 0, SEEK_END);
    unsigned char *data = end >= 0 ? malloc((size_t)end + 1) : NULL;
    if (!data || pread(fd, data, (size_t)end, 0) != end) {
        free(data);
        close(fd);
        return NULL;
    }
    close(fd);
    cached[slot] = (mem_file){ .name = strdup(path), .data = data, .len = (size_t)end };
    if (!cached[slot].name) { free(data); cached[slot].data = NULL; return NULL; }
    return &cached[slot];
}

static mem_file *mem_fd_file(int fd) {
    if (fd == MEM_FD_BASE) return &unit_object;
    if (fd > MEM_FD_BASE && fd <= MEM_FD_BASE + MAX_CACHED) return &cached[fd - MEM_FD_BASE - 1];
    return NULL;
}

static int mem_fd_of(const mem_file *f) {
    return f == &unit_object ? MEM_FD_BASE : MEM_FD_BASE + 1 + (int)(f - cached);
}

int ck_tcc_open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    mem_file *f = NULL;
    if (!strcmp(path, TCCFILES_OBJECT)) {
        f = &unit_object;
        if ((flags & O_ACCMODE) != O_RDONLY)     /* libtcc writes it anew */
            *f = (mem_file){ .name = TCCFILES_OBJECT };
    } else if ((flags & O_ACCMODE) == O_RDONLY && cacheable(path)) {
        f = cached_library(path);
    }
    if (!f) return open(path, flags, mode);
    if (f->open) { errno = EBUSY; return -1; }
    f->open = 1;
    f->pos = 0;
    return mem_fd_of(f);
}

ssize_t ck_tcc_read(int fd, void *buf, size_t n) {
    mem_file *f = mem_fd_file(fd);
    if (!f) return read(fd, buf, n);
    size_t left = f->pos < f->len ? f->len - f->pos : 0;
    if (n > left) n = left;
    if (n) memcpy(buf, f->data + f->pos, n);
    f->pos += n;
    return (ssize_t)n;
}

off_t ck_tcc_lseek(int fd, off_t off, int whence) {
    mem_file *f = mem_fd_file(fd);
    if (!f) return lseek(fd, off, whence);
    off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (off_t)f->pos : (off_t)f->len;
    if (base + off < 0) { errno = EINVAL; return -1; }
    f->pos = (size_t)(base + off);
    return (off_t)f->pos;
}

int ck_tcc_close(int fd) {
    mem_file *f = mem_fd_file(fd);
    if (!f) return close(fd);
    f->open = 0;
    return 0;
}

int ck_tcc_unlink(const char *path) {
    return strcmp(path, TCCFILES_OBJECT) ? unlink(path) : 0;
}

/* What libtcc writes to the object: appended to the compiler's memory. */
static ssize_t object_write(void *cookie, const char *buf, size_t n) {
    mem_file *f = cookie;
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16384;
        while (cap < f->len + n) cap *= 2;
        unsigned char *data = ck_tcc_realloc((void *)f->data, cap);
        if (!data) { errno = ENOMEM; return -1; }
        f->data = data;
        f->cap = cap;
    }
    memcpy((unsigned char *)f->data + f->len, buf, n);
    f->len += n;
    return (ssize_t)n;
}

static int object_close(void *cookie) {
    ((mem_file *)cookie)->open = 0;
    return 0;
}

FILE *ck_tcc_fdopen(int fd, const char *mode) {
    mem_file *f = mem_fd_file(fd);
    if (!f) return fdopen(fd, mode);
    if (f != &unit_object) { errno = EBADF; return NULL; }
    return fopencookie(f, "w", (cookie_io_functions_t){ .write = object_write,
                                                         .close = object_close });
}

const unsigned char *tccfiles_object(size_t *len) {
    *len = unit_object.len;
    return unit_object.len ? unit_object.data : NULL;
}

void tccfiles_set_object(const unsigned char *data, size_t len) {
    unit_object = (mem_file){ .name = TCCFILES_OBJECT, .data = data, .len = len };
}
