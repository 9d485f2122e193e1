/* errors.c - the table of error names (see errors.h). */
#include "errors.h"

#define CK_ERROR_NAME(id, name, meaning) [id] = name,
#define CK_ERROR_MEANING(id, name, meaning) [id] = meaning,
static const char *const names[] = { CK_ERROR_TABLE(CK_ERROR_NAME) };
static const char *const meanings[] = { CK_ERROR_TABLE(CK_ERROR_MEANING) };

const char *ck_ename(ck_error e) {
    return (unsigned)e < CK_ERROR_COUNT ? names[e] : "Error";
}

const char *ck_error_meaning(ck_error e) {
    return (unsigned)e < CK_ERROR_COUNT ? meanings[e] : "";
}
