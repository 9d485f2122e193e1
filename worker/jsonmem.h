/* jsonmem.h - jansson's memory in the worker, out of the snapshot's way.
 *
 * Every JSON value the worker makes lives only while it serves one request
 * (the request itself, the events it sends), so it comes from a region that
 * fork does not write-protect; see jsonmem.c. Lives in the worker only.
 * Strings jansson returns (json_dumps) are then not malloc's: release them
 * with the free function json_get_alloc_funcs gives. */
#ifndef CK_JSONMEM_H
#define CK_JSONMEM_H

/* Make jansson allocate from the region (at start-up, before any JSON). */
void jsonmem_install(void);
/* A request arrived: what is allocated from now on is its serving's,
 * and goes back whenever that is all freed again. */
void jsonmem_request_begin(void);
/* In a snapshot taking over: the region is zero-filled, and what lived in
 * it (the request being served when the snapshot was forked) is gone. */
void jsonmem_after_fork(void);

#endif
