/* escape.h - %escape and %%escape in the worker: the cell's unit (with
 * earlier cells' functions) goes to the analyser, build/bin/ckernel-escape,
 * a process of its own so that libclang never loads into the worker; what
 * it says comes back as a table to show and as metadata.ckernel.escape.
 *
 * Ownership: an escape_result owns its JSON and strings;
 * escape_result_free frees them. */
#ifndef CK_ESCAPE_H
#define CK_ESCAPE_H

#include <jansson.h>
#include "session.h"

typedef struct {
    json_t *facts;          /* [{function,name,kind,line,verdict,detail,source}] */
    json_t *display;        /* {"text/plain": ..., "text/html": ...} */
    double parse_ms, analysis_ms;   /* the analyser's own figures: wall */
    double parse_cpu_ms, analysis_cpu_ms;   /* ... and CPU time */
    char *error;            /* when the analysis could not be done: why */
} escape_result;

/* Analyse CODE (the cell, magic lines blanked) in session S. 0 with R's
 * facts and display, -1 with R->error. Never kills the worker: an
 * analyser that crashes or outlives CKERNEL_ESCAPE_TIMEOUT seconds
 * (default 60) is an error. CKERNEL_ESCAPE_TOOLS=off leaves the compilers
 * out; CKERNEL_ESCAPE_BIN names another analyser (the tests' stand-ins). */
int escape_run(session *s, const char *code, const char *cell_options, escape_result *r);
void escape_result_free(escape_result *r);

#endif
