/* tools.h - gcc, clang's analyzer and cppcheck on the same unit, beside
 * ckernel's own analysis (see tools.c). */
#ifndef CK_ESCAPE_TOOLS_H
#define CK_ESCAPE_TOOLS_H

#include <jansson.h>

/* Start every installed tool on UNIT; their output goes to files in DIR. */
void tools_start(const char *unit, const char *dir);
/* Wait for them (at most TIMEOUT_MS from their start), add what they say to
 * FACTS, and one {"tool","status","ms"} per tool to STATUS. */
void tools_finish(json_t *facts, json_t *status, double timeout_ms);

#endif
