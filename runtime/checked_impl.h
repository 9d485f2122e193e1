/* checked_impl.h - what checked.c lends checked_lib.c, the library
 * wrappers of `%%check`. Not seen by anything else. */
#ifndef NB_CHECKED_IMPL_H
#define NB_CHECKED_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "rt.h"

/* What an access does, from the instruction after tcc's checking call,
 * or from the wrapper. */
enum { CK_READ, CK_WRITE, CK_ACCESS };

/* Where in the cell the running wrapper was called from: its frame
 * pointer, return address and stack pointer (its stub writes them). */
RT_HIDDEN extern uintptr_t ck_call_fp, ck_call_pc, ck_call_sp;

/* [P, P + N) is read (CK_READ) or written (CK_WRITE) by the wrapper: the
 * cell ends with a MemoryError if that is outside P's region, freed, or a
 * returned frame's. */
RT_HIDDEN void rt_checked_range(const void *p, size_t n, int how);
/* strnlen(S, MAX), the bytes up to the NUL being S's region's (and
 * written, if a new block's). */
RT_HIDDEN size_t rt_checked_string(const char *s, size_t max);
/* The wrapper wrote [P, P + N): those bytes are no longer uninitialised. */
RT_HIDDEN void rt_checked_wrote(const void *p, size_t n);
/* Block P, which a wrapper allocated for the cell, was allocated at SITE. */
RT_HIDDEN void rt_checked_name_site(const void *p, const void *site);

#endif
