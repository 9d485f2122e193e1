/* log.h - one-line diagnostics on stderr, prefixed with the process role.
 *
 * The kernel's stderr is the Jupyter server's log; the worker's stderr is a
 * pipe that becomes the cell's stderr stream, so the worker logs only
 * through log_* while no cell runs, and only for its own failures. */
#ifndef CK_LOG_H
#define CK_LOG_H

void log_set_role(const char *role);   /* "ckernel" or "ckernel-worker" */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
