/* compile.c - libtcc for cells (see compile.h).
 *
 * Owns the code arena: one large read-write-execute mapping that relocated
 * cells are bump-allocated from. Keeping code outside the TCCState lets us
 * delete each state right after relocation (a live state costs ~8.5 KiB and
 * 1.6 mappings), and lets us patch old function entries in place. */
#include <libtcc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "compile.h"
#include "log.h"

#define ARENA_CHUNK (64u << 20)

struct compile_unit {
    TCCState *s;
};

static struct {
    unsigned char *base;
    size_t used, size;
} arena;

/* Memory for SIZE bytes of relocated code and data, 64-byte aligned. A
 * chunk is reserved lazily (MAP_NORESERVE: pages cost only when touched). */
static void *arena_alloc(size_t size) {
    size = (size + 63) & ~(size_t)63;
    if (!arena.base || arena.used + size > arena.size) {
        size_t chunk = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        void *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return NULL;
        arena.base = p;
        arena.used = 0;
        arena.size = chunk;
    }
    void *p = arena.base + arena.used;
    arena.used += size;
    return p;
}

compile_unit *compile_new(const char *options, compile_diag_fn diag, void *opaque) {
    compile_unit *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    u->s = tcc_new();
    if (!u->s) { free(u); return NULL; }
    tcc_set_error_func(u->s, opaque, diag);
    /* libtcc: -g/-b must come before tcc_set_output_type */
    tcc_set_options(u->s, "-std=c11");
    if (options && *options) tcc_set_options(u->s, options);
    tcc_set_output_type(u->s, TCC_OUTPUT_MEMORY);
    return u;
}

void compile_add_symbol(compile_unit *u, const char *name, const void *addr) {
    tcc_add_symbol(u->s, name, addr);
}

int compile_add_library(compile_unit *u, const char *name) {
    return tcc_add_library(u->s, name) < 0 ? -1 : 0;
}

int compile_source(compile_unit *u, const char *src) {
    if (tcc_compile_string(u->s, src) < 0) return -1;
    int size = tcc_relocate(u->s, NULL);
    if (size < 0) return -1;
    void *mem = arena_alloc((size_t)size);
    if (!mem) {
        log_error("code arena: out of memory");
        return -1;
    }
    return tcc_relocate(u->s, mem) < 0 ? -1 : 0;
}

void *compile_symbol(compile_unit *u, const char *name) {
    return tcc_get_symbol(u->s, name);
}

void compile_free(compile_unit *u) {
    if (!u) return;
    tcc_delete(u->s);
    free(u);
}

void compile_redirect(void *old_fn, void *new_fn) {
    unsigned char *p = old_fn;
    uint64_t target = (uint64_t)(uintptr_t)new_fn;
    unsigned char code[13] = { 0x49, 0xBB };          /* movabs r11, imm64 */
    memcpy(code + 2, &target, 8);
    code[10] = 0x41; code[11] = 0xFF; code[12] = 0xE3; /* jmp r11 */
    memcpy(p, code, sizeof code);
    __builtin___clear_cache((char *)p, (char *)p + sizeof code);
}
