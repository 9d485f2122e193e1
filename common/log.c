/* log.c - one-line diagnostics on stderr (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "log.h"

static const char *log_role = "ckernel";
static int log_quiet = -1;

void log_set_role(const char *role) { log_role = role; }

static void log_line(const char *level, const char *fmt, va_list ap) {
    if (log_quiet < 0) log_quiet = getenv("CKERNEL_QUIET") != NULL;
    if (log_quiet && level[0] == 'i') return;
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    fprintf(stderr, "[%s %s] %s\n", log_role, level, buf);
}

void log_info(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_line("info", fmt, ap); va_end(ap); }
void log_warn(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_line("warn", fmt, ap); va_end(ap); }
void log_error(const char *fmt, ...) { va_list ap; va_start(ap, fmt); log_line("error", fmt, ap); va_end(ap); }
