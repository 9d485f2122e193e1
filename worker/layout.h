/* layout.h - lay a cell's object out as a linked program's memory.
 *
 * libtcc 0.9.27 keeps string literals and other anonymous constants
 * (symbols named L.<n>, local) in .data, beside the writable globals.
 * Linking into memory, it puts the executable sections first (.text, then
 * the PLT), then the others (.data, .bss, then sections it did not make
 * itself, then the GOT). layout_object rewrites the relocatable object tcc
 * writes for a unit so that, once linked into the arena:
 *   - the literals are copied after the code, in .text (their symbols
 *     point there; relocations follow);
 *   - .data starts on a page of its own;
 *   - an empty section after .bss starts a new page, so the GOT does not
 *     share the pages of .bss.
 * Code, literals and the linker's tables can then be read+execute, never
 * writable, as a classic text segment; data and bss read-write. Usually
 * the data and bss leave the object altogether for the arena's data
 * region (layout_data_need, then layout_object with DATA_AT, then
 * layout_link_data), and no unit adds a mapping: the snapshot fork's cost
 * grows with the number of mappings and pages. Else a unit adds one
 * read-write island to the arena's mappings, and a unit without data none.
 * Global marker symbols give each boundary after relocation.
 * Literals that hold relocations (a compound literal with pointers, which C
 * lets a program write) stay in .data. So do READONLY's named const objects
 * (NULL-terminated, may be NULL) that hold none: they move with the literals
 * (tcc has no .rodata); those with pointers in them stay writable. */
#ifndef CK_LAYOUT_H
#define CK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define LAYOUT_TEXT "__ck_sec_text"   /* start of the unit's code */
#define LAYOUT_RO "__ck_sec_ro"       /* start of the literals, after the code */
#define LAYOUT_RO_END "__ck_sec_ro_end"   /* end of the literals */
#define LAYOUT_DATA "__ck_sec_data"   /* start of .data (page-aligned) */
#define LAYOUT_BSS "__ck_sec_bss"     /* start of .bss */
#define LAYOUT_END "__ck_sec_end"     /* end of .bss, page-aligned: the GOT follows */

/* Where a unit's data and bss go when they leave its linked block for the
 * arena's data region (compile.c): the bytes it needs there, their
 * alignment, and where .bss starts in them. SIZE 0: nothing to write, or
 * an object this split does not handle (a common symbol, a relocation
 * in .data other than an absolute pointer): SPLIT says which. */
typedef struct {
    size_t size, align, bss_at;
    int split;
} layout_data;

/* OBJ's data needs (READONLY as for layout_object). 0, or -1 if OBJ is
 * not an object as tcc writes them. */
int layout_data_need(const unsigned char *obj, size_t len, const char *const *readonly, layout_data *need);

/* The rewritten object, in memory from ALLOC (never freed here), its
 * length in *OUT_LEN; NULL if OBJ is not an object as tcc writes them.
 * DATA_AT not 0 (the unit's data needs split, place allocated there): the
 * data and bss leave the object, their symbols (and the markers
 * LAYOUT_DATA, LAYOUT_BSS, LAYOUT_END) become absolute addresses from
 * DATA_AT on, and *RW is 0; layout_link_data fills them after the link.
 * Else *RW tells whether the unit has anything to write (data, bss): if
 * not, nothing is page-aligned, and the whole unit can share
 * read+execute pages with the units before and after it. */
unsigned char *layout_object(const unsigned char *obj, size_t len, const char *const *readonly,
                             uintptr_t data_at, size_t *out_len, int *rw, void *(*alloc)(size_t));

/* The address of an undefined symbol NAME after the link, or 0. */
typedef uintptr_t (*layout_resolve_fn)(void *opaque, const char *name);

/* Copy OBJ's .data to DATA_AT (where layout_object placed it, LAID its
 * output) and apply its relocations: symbols of the code at TEXT_AT (the
 * LAYOUT_TEXT marker's address), undefined ones through RESOLVE. 0, or -1
 * naming nothing when a symbol does not resolve (not weak). */
int layout_link_data(const unsigned char *obj, size_t len, const unsigned char *laid, uintptr_t data_at,
                     uintptr_t text_at, layout_resolve_fn resolve, void *opaque);

/* A named static object of the unit (a static variable in a function, or
 * at file scope): in .data or .bss, VALUE bytes in. */
typedef struct {
    int in_bss;
    unsigned long value, size;
    const char *name;       /* points into the object */
} layout_static;

/* Up to MAX of OBJ's named statics into OUT; how many there are. */
size_t layout_statics(const unsigned char *obj, size_t len, layout_static *out, size_t max);

#endif
