/* worker/sibling.h - fork a copy of the worker that is its parent's child. */
#ifndef CK_SIBLING_H
#define CK_SIBLING_H
#include <sys/types.h>

#define SIBLING_UNAVAILABLE (-2)

/* As fork(), but the copy's parent is the worker's parent (the kernel):
 * its pid in the worker, 0 in the copy, -1 on an error (errno), or
 * SIBLING_UNAVAILABLE where this cannot stand in for fork() (threads, an
 * unknown glibc: see sibling.c); then fork twice instead. */
pid_t sibling_fork(void);

#endif
