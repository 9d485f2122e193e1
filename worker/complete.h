/* complete.h - completion and inspection of C names at a cursor.
 *
 * Lives in the worker, which knows the session's definitions and the
 * preprocessed headers. Sources, in order: members of a known struct after
 * `.` or `->`; the session's names; names the cell itself declares;
 * functions, types and macros of the included headers; C keywords.
 *
 * Ownership: results are new; complete_free / free release them. */
#ifndef CK_COMPLETE_H
#define CK_COMPLETE_H

#include <stddef.h>
#include "session.h"

typedef struct {
    char **matches;         /* sorted, unique */
    size_t n;
    size_t start, end;      /* byte offsets in the code: what the match replaces */
} completion;

/* Complete the name ending at byte CURSOR of CODE. */
void complete_at(session *s, const char *code, size_t cursor, completion *out);
void complete_free(completion *c);

/* What is known of the name at byte CURSOR: its declaration and the
 * comment above its definition, as plain text (caller frees), or NULL. */
char *complete_inspect_at(session *s, const char *code, size_t cursor);

#endif
