/* checked_units.c - the units of `%%check` cells, kept for their lines
 * (see checked_units.h).
 *
 * Owns a ring of the last KEPT units, in malloc'd copies (a unit is in
 * the compiler's scratch memory, which the next compile reuses). Only
 * checked cells that define functions are kept: a cell's statements run
 * once, in that cell. */
#include <stdlib.h>
#include <string.h>
#include "checked.h"
#include "checked_units.h"
#include "compile.h"

#define KEPT 8

static struct { int count; char *src, *options; } kept[KEPT];
static unsigned next;

void checked_units_keep(int count, const char *src, const char *options) {
    if (!nb_internal_checked_symbols(options)) return;          /* not a %%check cell */
    unsigned k = next++ % KEPT;
    free(kept[k].src);
    free(kept[k].options);
    kept[k].count = count;
    kept[k].src = strdup(src);
    kept[k].options = options ? strdup(options) : NULL;
}

int checked_units_line(int count, const char *name, unsigned long off) {
    for (unsigned i = 0; i < KEPT; i++) {
        if (kept[i].count != count || !kept[i].src) continue;
        int line = 0;
        const char *names[1] = { name };
        unsigned long offsets[1] = { off };
        if (compile_lines(kept[i].src, kept[i].options, names, offsets, &line, 1) == 0) return line;
    }
    return 0;
}
