/* handlers.h - what the kernel does with each Jupyter message type.
 *
 * One dispatch table maps msg_type to a handler; handlers own busy/idle,
 * execution counts, history and aborts, and leave compiling and running to
 * the worker (worker.h). Nothing here is exported but the wiring below. */
#ifndef CK_HANDLERS_H
#define CK_HANDLERS_H

#include "worker.h"

/* Take messages from the channels (channels_on_message). */
void handlers_init(void);
/* The callbacks through which the worker reports streams and cell ends;
 * pass them to worker_init. Static storage. */
const worker_hooks *handlers_worker_hooks(void);
/* SIGINT to the kernel: the same as an interrupt_request. */
void handlers_interrupt(void);
/* Release what the handlers hold (the running request, history). */
void handlers_free(void);

#endif
