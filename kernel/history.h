/* history.h - this session's inputs, for history_request and completion.
 *
 * Ownership: history_add copies the input; history_query returns a new
 * JSON array; history_input returns a pointer owned by the store, valid
 * until history_free. */
#ifndef CK_HISTORY_H
#define CK_HISTORY_H

#include <stddef.h>
#include <jansson.h>

#define HISTORY_SESSION 1   /* the number this session reports for itself */

/* Remember INPUT as line LINE (its execution_count). 0 or -1. */
int history_add(int line, const char *input);
size_t history_count(void);
/* The I-th stored input, oldest first; NULL past the end. */
const char *history_input(size_t i);
/* The "history" list of a history_reply for the CONTENT of a
 * history_request (messaging 5.3: tail, range, search). New reference. */
json_t *history_query(json_t *content);
void history_free(void);

#endif
