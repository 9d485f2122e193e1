/* layout.c - a cell's object rewritten for page protections (layout.h).
 *
 * The output is the input's bytes unchanged, followed by the code with the
 * literals after it, a new symbol table, string tables and section headers;
 * the old ones are left in place, unreferenced. Reads only what the headers say
 * lies inside OBJ. tcc may leave the section headers 4-byte aligned; x86-64
 * reads them as they are. */
#include <elf.h>
#include <stdint.h>
#include <string.h>
#include "layout.h"

#define PAGE 4096

typedef struct {
    const unsigned char *obj;
    size_t len;
    const Elf64_Ehdr *eh;
    const Elf64_Shdr *sh;
    int text, data, bss, symtab, strtab, data_rela;
    const char *const *readonly;    /* named const objects to move too */
    uintptr_t data_at;              /* not 0: .data and .bss leave for there */
    size_t bss_at, data_size;       /* .bss's offset from DATA_AT; the bytes there */
} object;

static int section_named(const object *o, const char *name) {
    const Elf64_Shdr *names = &o->sh[o->eh->e_shstrndx];
    for (int i = 1; i < o->eh->e_shnum; i++)
        if (o->sh[i].sh_name < names->sh_size &&
            strcmp((const char *)o->obj + names->sh_offset + o->sh[i].sh_name, name) == 0)
            return i;
    return -1;
}

static int inside(const object *o, uint64_t off, uint64_t size) {
    return off <= o->len && size <= o->len - off;
}

/* Check the headers and find the sections used. 0 or -1. */
static int open_object(object *o, const unsigned char *obj, size_t len) {
    memset(o, 0, sizeof *o);
    o->obj = obj;
    o->len = len;
    if (len < sizeof(Elf64_Ehdr) || memcmp(obj, ELFMAG, SELFMAG) != 0 || obj[EI_CLASS] != ELFCLASS64) return -1;
    o->eh = (const Elf64_Ehdr *)obj;
    if (!inside(o, o->eh->e_shoff, (uint64_t)o->eh->e_shnum * sizeof(Elf64_Shdr)) ||
        o->eh->e_shstrndx >= o->eh->e_shnum)
        return -1;
    o->sh = (const Elf64_Shdr *)(obj + o->eh->e_shoff);
    for (int i = 1; i < o->eh->e_shnum; i++)
        if (o->sh[i].sh_type != SHT_NOBITS && !inside(o, o->sh[i].sh_offset, o->sh[i].sh_size)) return -1;
    if (!inside(o, o->sh[o->eh->e_shstrndx].sh_offset, o->sh[o->eh->e_shstrndx].sh_size)) return -1;
    o->text = section_named(o, ".text");
    o->data = section_named(o, ".data");
    o->bss = section_named(o, ".bss");
    o->symtab = -1;
    o->data_rela = -1;
    for (int i = 1; i < o->eh->e_shnum; i++) {
        if (o->sh[i].sh_type == SHT_SYMTAB) o->symtab = i;
        if (o->sh[i].sh_type == SHT_RELA && (int)o->sh[i].sh_info == o->data) o->data_rela = i;
    }
    if (o->text < 0 || o->data < 0 || o->bss < 0 || o->symtab < 0) return -1;
    o->strtab = (int)o->sh[o->symtab].sh_link;
    if (o->strtab <= 0 || o->strtab >= o->eh->e_shnum || o->sh[o->symtab].sh_entsize != sizeof(Elf64_Sym))
        return -1;
    return 0;
}

static const char *symbol_name(const object *o, const Elf64_Sym *s) {
    const Elf64_Shdr *st = &o->sh[o->strtab];
    return s->st_name < st->sh_size ? (const char *)o->obj + st->sh_offset + s->st_name : "";
}

static int is_readonly_name(const object *o, const char *name) {
    for (size_t i = 0; o->readonly && o->readonly[i]; i++)
        if (strcmp(o->readonly[i], name) == 0) return 1;
    return 0;
}

/* Whether S moves to the read-only part: an anonymous constant of .data
 * (a literal), or a const object named in READONLY, holding no relocation. */
static int is_literal(const object *o, const Elf64_Sym *s) {
    if (s->st_shndx != o->data || !s->st_size || ELF64_ST_TYPE(s->st_info) == STT_SECTION) return 0;
    const char *name = symbol_name(o, s);
    if (!(ELF64_ST_BIND(s->st_info) == STB_LOCAL && strncmp(name, "L.", 2) == 0) && !is_readonly_name(o, name))
        return 0;
    if (s->st_value + s->st_size > o->sh[o->data].sh_size) return 0;
    if (o->data_rela < 0) return 1;
    const Elf64_Shdr *r = &o->sh[o->data_rela];
    const Elf64_Rela *rel = (const Elf64_Rela *)(o->obj + r->sh_offset);
    for (size_t i = 0; i < r->sh_size / sizeof *rel; i++)
        if (rel[i].r_offset >= s->st_value && rel[i].r_offset < s->st_value + s->st_size) return 0;
    return 1;
}

/* Whether the unit needs read-write pages: a named object or a kept
 * literal in .data, anything in .bss, a common symbol, or a relocation
 * in .data. Moved literals leave nothing behind that needs writing. */
static int needs_rw(const object *o) {
    if (o->sh[o->bss].sh_size || o->data_rela >= 0) return 1;
    const Elf64_Sym *sym = (const Elf64_Sym *)(o->obj + o->sh[o->symtab].sh_offset);
    size_t n = o->sh[o->symtab].sh_size / sizeof *sym;
    for (size_t i = 0; i < n; i++) {
        if (sym[i].st_shndx == SHN_COMMON) return 1;
        if (sym[i].st_shndx == o->data && ELF64_ST_TYPE(sym[i].st_info) != STT_SECTION && !is_literal(o, &sym[i]))
            return 1;
    }
    return 0;
}


static size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

/* Whether every relocation in .data is one layout_link_data applies: an
 * absolute 64-bit address of a symbol of the code, the data, or one
 * defined elsewhere; and no common symbol, which tcc would place itself. */
static int splittable(const object *o) {
    const Elf64_Sym *sym = (const Elf64_Sym *)(o->obj + o->sh[o->symtab].sh_offset);
    size_t n = o->sh[o->symtab].sh_size / sizeof *sym;
    for (size_t i = 0; i < n; i++)
        if (sym[i].st_shndx == SHN_COMMON) return 0;
    if (o->data_rela < 0) return 1;
    const Elf64_Shdr *r = &o->sh[o->data_rela];
    if (r->sh_link != (unsigned)o->symtab || r->sh_entsize != sizeof(Elf64_Rela)) return 0;
    const Elf64_Rela *rel = (const Elf64_Rela *)(o->obj + r->sh_offset);
    for (size_t i = 0; i < r->sh_size / sizeof *rel; i++) {
        size_t k = ELF64_R_SYM(rel[i].r_info);
        if (ELF64_R_TYPE(rel[i].r_info) != R_X86_64_64 || k >= n ||
            rel[i].r_offset > o->sh[o->data].sh_size || o->sh[o->data].sh_size - rel[i].r_offset < 8)
            return 0;
        int at = sym[k].st_shndx;
        if (at != SHN_UNDEF && at != SHN_ABS && at != o->text && at != o->data && at != o->bss) return 0;
    }
    return 1;
}

static void plan_data(const object *o, layout_data *need) {
    memset(need, 0, sizeof *need);
    need->split = splittable(o);
    if (!needs_rw(o) || !need->split) return;
    const Elf64_Shdr *d = &o->sh[o->data], *b = &o->sh[o->bss];
    size_t balign = b->sh_addralign > 16 ? b->sh_addralign : 16;
    need->align = d->sh_addralign > balign ? d->sh_addralign : balign;
    need->bss_at = align_up(d->sh_size, balign);
    need->size = need->bss_at + b->sh_size ? need->bss_at + b->sh_size : 1;
}

int layout_data_need(const unsigned char *obj, size_t len, const char *const *readonly, layout_data *need) {
    object o;
    if (open_object(&o, obj, len) < 0) return -1;
    o.readonly = readonly;
    plan_data(&o, need);
    return 0;
}

static const char *const markers[] = { LAYOUT_TEXT, LAYOUT_RO, LAYOUT_RO_END, LAYOUT_DATA, LAYOUT_BSS, LAYOUT_END };
#define NMARKERS 6
static const char new_name[] = ".ckend";

/* Where the appended parts go, and their sizes. */
typedef struct { size_t code, text, nsym, strtab, shstrtab, at_text, at_sym, at_str, at_shstr, at_sh, total; } plan;

static plan plan_output(const object *o) {
    plan p = {0};
    const Elf64_Sym *sym = (const Elf64_Sym *)(o->obj + o->sh[o->symtab].sh_offset);
    size_t n = o->sh[o->symtab].sh_size / sizeof *sym;
    p.code = align_up(o->sh[o->text].sh_size, 16);
    p.text = p.code;
    for (size_t i = 0; i < n; i++)
        if (is_literal(o, &sym[i])) p.text = align_up(p.text, 16) + sym[i].st_size;
    p.nsym = n + NMARKERS;
    p.strtab = o->sh[o->strtab].sh_size;
    for (int i = 0; i < NMARKERS; i++) p.strtab += strlen(markers[i]) + 1;
    p.shstrtab = o->sh[o->eh->e_shstrndx].sh_size + sizeof new_name;
    p.at_text = align_up(o->len, 16);
    p.at_sym = align_up(p.at_text + p.text, 8);
    p.at_str = p.at_sym + p.nsym * sizeof(Elf64_Sym);
    p.at_shstr = p.at_str + p.strtab;
    p.at_sh = align_up(p.at_shstr + p.shstrtab, 8);
    p.total = p.at_sh + (size_t)(o->eh->e_shnum + 1) * sizeof(Elf64_Shdr);
    return p;
}

/* The code, then the literals, to OUT + at_text, the literals' symbols
 * re-pointed; the markers after the old symbols, their names after the
 * old strings. */
static void write_symbols(const object *o, const plan *p, unsigned char *out, int end) {
    memcpy(out + p->at_text, o->obj + o->sh[o->text].sh_offset, o->sh[o->text].sh_size);
    const Elf64_Sym *old = (const Elf64_Sym *)(o->obj + o->sh[o->symtab].sh_offset);
    Elf64_Sym *sym = (Elf64_Sym *)(out + p->at_sym);
    size_t n = p->nsym - NMARKERS, at = p->code;
    for (size_t i = 0; i < n; i++) {
        sym[i] = old[i];
        if (o->data_at && (old[i].st_shndx == o->data || old[i].st_shndx == o->bss) && !is_literal(o, &old[i])) {
            sym[i].st_value += o->data_at + (old[i].st_shndx == o->bss ? o->bss_at : 0);
            sym[i].st_shndx = SHN_ABS;       /* in the data region (compile.c) */
            /* hidden: libtcc sends a PC-relative reference to a default-
             * visibility absolute symbol through a PLT stub, as if it were
             * a function; to a hidden one, straight to the address */
            sym[i].st_other = (unsigned char)((sym[i].st_other & ~3) | STV_HIDDEN);
        }
        if (!is_literal(o, &old[i])) continue;
        at = align_up(at, 16);
        memcpy(out + p->at_text + at, o->obj + o->sh[o->data].sh_offset + old[i].st_value, old[i].st_size);
        sym[i].st_shndx = (uint16_t)o->text;
        sym[i].st_value = at;
        at += old[i].st_size;
    }
    char *str = (char *)out + p->at_str;
    size_t slen = o->sh[o->strtab].sh_size;
    memcpy(str, o->obj + o->sh[o->strtab].sh_offset, slen);
    int where[NMARKERS] = { o->text, o->text, o->text, o->data, o->bss, end };
    size_t value[NMARKERS] = { 0, p->code, p->text, 0, 0, 0 };
    if (o->data_at) {                         /* the data region's, absolute */
        where[3] = where[4] = where[5] = SHN_ABS;
        value[3] = o->data_at;
        value[4] = o->data_at + o->bss_at;
        value[5] = o->data_at + o->data_size;
    }
    for (int k = 0; k < NMARKERS; k++) {
        sym[n + k] = (Elf64_Sym){ .st_name = (uint32_t)slen, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE),
                                  .st_shndx = (uint16_t)where[k], .st_value = value[k] };
        memcpy(str + slen, markers[k], strlen(markers[k]) + 1);
        slen += strlen(markers[k]) + 1;
    }
}

static void write_headers(const object *o, const plan *p, unsigned char *out, int rw) {
    int n = o->eh->e_shnum, shstr = o->eh->e_shstrndx;
    const Elf64_Shdr *names = &o->sh[shstr];
    memcpy(out + p->at_shstr, o->obj + names->sh_offset, names->sh_size);
    memcpy(out + p->at_shstr + names->sh_size, new_name, sizeof new_name);
    Elf64_Shdr *sh = (Elf64_Shdr *)(out + p->at_sh);
    memcpy(sh, o->sh, (size_t)n * sizeof *sh);
    if (rw) sh[o->data].sh_addralign = PAGE;
    else sh[o->data].sh_size = 0;        /* only moved literals were there, or it left */
    if (o->data_at) {                    /* left for the data region: tcc sees none of it */
        sh[o->bss].sh_size = 0;
        if (o->data_rela >= 0) sh[o->data_rela].sh_size = 0;
    }
    sh[o->text].sh_offset = p->at_text;
    sh[o->text].sh_size = p->text;
    sh[o->symtab].sh_offset = p->at_sym;
    sh[o->symtab].sh_size = p->nsym * sizeof(Elf64_Sym);
    sh[o->strtab].sh_offset = p->at_str;
    sh[o->strtab].sh_size = p->strtab;
    sh[shstr].sh_offset = p->at_shstr;
    sh[shstr].sh_size = p->shstrtab;
    sh[n] = (Elf64_Shdr){ .sh_name = (uint32_t)names->sh_size, .sh_type = SHT_NOBITS,
                          .sh_flags = SHF_ALLOC | SHF_WRITE, .sh_offset = p->at_sh, .sh_addralign = rw ? PAGE : 16 };
    Elf64_Ehdr *eh = (Elf64_Ehdr *)out;
    eh->e_shoff = p->at_sh;
    eh->e_shnum = (uint16_t)(n + 1);
}

unsigned char *layout_object(const unsigned char *obj, size_t len, const char *const *readonly,
                             uintptr_t data_at, size_t *out_len, int *rw, void *(*alloc)(size_t)) {
    object o;
    if (open_object(&o, obj, len) < 0) return NULL;
    o.readonly = readonly;
    *rw = needs_rw(&o);
    if (data_at) {
        layout_data need;
        plan_data(&o, &need);
        if (!need.size) return NULL;         /* not the object the caller planned for */
        o.data_at = data_at;
        o.bss_at = need.bss_at;
        o.data_size = need.size;
        *rw = 0;
    }
    plan p = plan_output(&o);
    unsigned char *out = alloc(p.total);
    if (!out) return NULL;
    memset(out, 0, p.total);
    memcpy(out, obj, len);
    write_symbols(&o, &p, out, o.eh->e_shnum);
    write_headers(&o, &p, out, *rw);
    *out_len = p.total;
    return out;
}

size_t layout_statics(const unsigned char *obj, size_t len, layout_static *out, size_t max) {
    object o;
    if (open_object(&o, obj, len) < 0) return 0;
    const Elf64_Sym *sym = (const Elf64_Sym *)(o.obj + o.sh[o.symtab].sh_offset);
    size_t n = o.sh[o.symtab].sh_size / sizeof *sym, found = 0;
    for (size_t i = 0; i < n; i++) {
        const Elf64_Sym *s = &sym[i];
        const char *name = symbol_name(&o, s);
        if (ELF64_ST_BIND(s->st_info) != STB_LOCAL || ELF64_ST_TYPE(s->st_info) != STT_OBJECT || !*name ||
            strncmp(name, "L.", 2) == 0 || (s->st_shndx != o.data && s->st_shndx != o.bss))
            continue;
        if (found < max) out[found] = (layout_static){ s->st_shndx == o.bss, s->st_value, s->st_size, name };
        found++;
    }
    return found;
}

/* The address symbol K of LAID (layout_object's output) has after the
 * link, the code at TEXT_AT; 0 with *MISSING set if it has none. */
static uintptr_t linked_address(const object *laid, size_t k, uintptr_t text_at,
                                layout_resolve_fn resolve, void *opaque, int *missing) {
    const Elf64_Sym *s = (const Elf64_Sym *)(laid->obj + laid->sh[laid->symtab].sh_offset) + k;
    if (s->st_shndx == SHN_ABS) return s->st_value;
    if (s->st_shndx == laid->text) return text_at + s->st_value;
    if (s->st_shndx == SHN_UNDEF) {
        uintptr_t a = k ? resolve(opaque, symbol_name(laid, s)) : 0;
        if (!a && k && ELF64_ST_BIND(s->st_info) != STB_WEAK) *missing = 1;
        return a;
    }
    *missing = 1;                     /* splittable() let no other section through */
    return 0;
}

int layout_link_data(const unsigned char *obj, size_t len, const unsigned char *laid, uintptr_t data_at,
                     uintptr_t text_at, layout_resolve_fn resolve, void *opaque) {
    object o, l;
    if (open_object(&o, obj, len) < 0) return -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)laid;
    size_t laid_len = eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr);
    if (open_object(&l, laid, laid_len) < 0) return -1;
    const Elf64_Shdr *d = &o.sh[o.data];
    unsigned char *dest = (unsigned char *)data_at;
    memcpy(dest, o.obj + d->sh_offset, d->sh_size);
    if (o.data_rela < 0) return 0;
    const Elf64_Shdr *r = &o.sh[o.data_rela];
    const Elf64_Rela *rel = (const Elf64_Rela *)(o.obj + r->sh_offset);
    size_t nsym = l.sh[l.symtab].sh_size / sizeof(Elf64_Sym);
    int missing = 0;
    for (size_t i = 0; i < r->sh_size / sizeof *rel; i++) {
        size_t k = ELF64_R_SYM(rel[i].r_info);
        if (k >= nsym) return -1;
        uint64_t value = linked_address(&l, k, text_at, resolve, opaque, &missing) + (uint64_t)rel[i].r_addend;
        memcpy(dest + rel[i].r_offset, &value, sizeof value);   /* R_X86_64_64 only (splittable) */
    }
    return missing ? -1 : 0;
}
