/* profile.h - `%%profile`, as the worker runs it: before, around and after
 * the cell, and after a crash in the snapshot that takes over.
 *
 * The sampling itself is the runtime's (runtime/profile.c); this part
 * names the frames (cell functions and their lines, library symbols),
 * sums the samples up, and shows them: a flame graph, the top functions,
 * the cell's lines, the figures for execute_reply's metadata, and the
 * files of --export. */
#ifndef CK_PROFILE_H
#define CK_PROFILE_H

#include <jansson.h>
#include "magics.h"
#include "session.h"

/* Sends one display (a mime bundle, stolen) under the running cell. */
typedef void (*profile_send_fn)(json_t *data);

/* At the worker's start: name cell code for the sampler from S's
 * symbols; map the shared record, which every snapshot shares (so that
 * one that takes over reads what the dying cell sampled). */
void profile_install(session *s);
/* Before any cell is prepared (the session as it was before it): keep its
 * text; for a profiled cell, its line table (one more compile, with -g). */
void profile_cell(session *s, const magics *m, int count);
/* Right around the run. */
void profile_begin(const magics *m, int count);
void profile_end(const magics *m);
/* After the run: show the profile (SEND) and return the metadata to add
 * to the done event ({"profile": ...} or {"heap_profile": ...}), or NULL. */
json_t *profile_finish(session *s, const magics *m, int count, profile_send_fn send);
/* In the snapshot that took over from a process that died while a
 * profile ran: show what was sampled up to then. */
void profile_after_crash(session *s, const magics *m, int count, profile_send_fn send);

#endif
