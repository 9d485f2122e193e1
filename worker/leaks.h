/* leaks.h - the leak report under a cell (%leaks; the scan itself is the
 * runtime's, runtime/leaks.c).
 *
 * Lives in the worker. After a cell ran, leaks_after_cell scans and fills
 * the measurement's leak figures; leaks_report then names each leak's
 * allocation site (function, cell, line) for the reply. */
#ifndef CK_LEAKS_H
#define CK_LEAKS_H

#include <jansson.h>
#include <stdint.h>
#include "nb_internal.h"
#include "session.h"

/* %leaks off|on (on at start). */
void leaks_enable(int on);
/* Right after the cell's run and heap check: scan, fill M's leak figures
 * and the scan's time. */
void leaks_after_cell(nb_measure *m);
/* The leaks the last scan found, as [{bytes, function, cell, line}] (cell
 * and line null where unknown), lines found in CODE for cell COUNT, the
 * one that ran (measured M), or in an earlier cell's text (kept here);
 * and a short text list (caller frees) in *TEXT and HTML in *HTML. NULL
 * (and no text) when there were none. */
json_t *leaks_report(session *s, const char *code, const char *cflags, int count,
                     const nb_measure *m, char **text, char **html);

#endif
