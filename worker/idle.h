/* idle.h - what the worker gives back while it waits for a request.
 *
 * Lives in the worker, called from its request loop (main.c). */
#ifndef CK_IDLE_H
#define CK_IDLE_H

/* Wait until FD (the request pipe) is readable. If nothing comes for a
 * while, the worker is idle: return the compiler's memory to the system
 * first (scratch_release), then go on waiting. */
void idle_wait(int fd);

#endif
