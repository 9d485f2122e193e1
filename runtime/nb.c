/* nb.c - the runtime cells link against (see nb.h). */
#include <string.h>
#include "nb.h"

const char *nb_version(void) { return "0.1.0"; }

void nb__assign(void *dst, const void *src, unsigned long n) { memmove(dst, src, n); }

void nb__zero(void *dst, unsigned long n) { memset(dst, 0, n); }
