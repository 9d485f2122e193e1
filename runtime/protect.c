/* protect.c - mprotect() as cells call it: the same system call, noted
 * while a cell runs, so that the end-of-cell check (alloc.c) can tell a
 * cell that made the heap's bookkeeping unreadable or read-only, and say
 * at which call, instead of crashing on it. A cell that calls the system
 * call by number is not seen here: the check then faults, and the cell
 * ends as a crash in the heap (README "What happens when a cell crashes"). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "rt.h"

#define NOTES 64

static rt_protect_note notes[NOTES];
static unsigned nnotes;          /* calls seen in this cell; past NOTES the later ones are lost */
static int taken;                /* one of them took reading or writing away */

static void note(void *addr, size_t len, int prot, const void *site) {
    if (!rt_alloc_tracking()) return;                 /* the worker's own (libtcc's code pages) */
    unsigned i = __atomic_fetch_add(&nnotes, 1, __ATOMIC_RELAXED);
    if ((prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE)) taken = 1;
    if (i >= NOTES) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)addr;
    notes[i] = (rt_protect_note){ lo, lo + ((len + page - 1) & ~(page - 1)), prot, site };
}

int mprotect(void *addr, size_t len, int prot) {
    long rc = syscall(SYS_mprotect, addr, len, prot);
    if (rc == 0) note(addr, len, prot, __builtin_return_address(0));
    return (int)rc;
}

int pkey_mprotect(void *addr, size_t len, int prot, int pkey) {
    long rc = syscall(SYS_pkey_mprotect, addr, len, prot, pkey);
    if (rc == 0) note(addr, len, prot, __builtin_return_address(0));
    return (int)rc;
}

int rt_protect_taken(void) { return taken; }

void rt_protect_reset(void) {
    if (nnotes || taken) nnotes = 0, taken = 0;       /* no write (no page copied) when clean */
}

/* The last call that covers address P; NULL if none did. */
static const rt_protect_note *last_over(uintptr_t p) {
    unsigned n = nnotes < NOTES ? nnotes : NOTES;
    for (unsigned i = n; i-- > 0;)
        if (p >= notes[i].lo && p < notes[i].hi) return &notes[i];
    return NULL;
}

const rt_protect_note *rt_protect_denied(uintptr_t lo, uintptr_t hi) {
    uintptr_t ends[2] = { lo, hi - 1 };
    for (int k = 0; k < 2; k++) {
        const rt_protect_note *n = last_over(ends[k]);
        if (n && (n->prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE)) return n;
    }
    return NULL;
}

unsigned rt_protect_notes(const rt_protect_note **v) {
    *v = notes;
    return nnotes < NOTES ? nnotes : NOTES;
}

/* The heap glibc grows with brk: from start_brk (field 47 of
 * /proc/self/stat) to the break now. */
int rt_protect_brk_heap(uintptr_t *lo, uintptr_t *hi) {
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');         /* the name may hold anything */
    for (int field = 2; p && field < 47; field++) p = strchr(p + 1, ' ');
    if (!p) return -1;
    *lo = (uintptr_t)strtoull(p + 1, NULL, 10);
    *hi = (uintptr_t)sbrk(0);
    return *lo && *hi > *lo ? 0 : -1;
}

const char *rt_protect_name(int prot) {
    static const char *const names[] = { "PROT_NONE", "PROT_READ", "PROT_WRITE", "PROT_READ|PROT_WRITE" };
    return names[prot & 3];
}

/* For crash.c's handler (async-signal-safe but for snprintf, as there). */
int nb_internal_protect_fault(uintptr_t addr, int write, char *out, size_t n, const void **site) {
    const rt_protect_note *last = last_over(addr);
    if (!last || (last->prot & (write ? PROT_WRITE : PROT_READ))) return 0;
    snprintf(out, n, "the cell's mprotect(%p, %lu, %s) took that access away", (void *)last->lo,
             (unsigned long)(last->hi - last->lo), rt_protect_name(last->prot));
    *site = last->site;
    /* the process dies of this fault: let the report it writes first
     * (which reads the session, maybe on those pages) go through */
    unsigned count = nnotes < NOTES ? nnotes : NOTES;
    for (unsigned i = 0; i < count; i++)
        if ((notes[i].prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE))
            syscall(SYS_mprotect, notes[i].lo, notes[i].hi - notes[i].lo,
                    notes[i].prot | PROT_READ | PROT_WRITE);
    return 1;
}
