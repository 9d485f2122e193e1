/* prof_record.h - the profiler's shared record: CPU samples and heap sites.
 *
 * Lives in runtime/ (profile.c samples, profile_heap.c charges
 * allocations) and is read by the worker (worker/profile_report.c), which
 * turns it into flame graphs, tables and files. The record is one
 * MAP_SHARED mapping made before the snapshot is forked: when the process
 * running a profiled cell dies (a crash, an interrupt), the snapshot that
 * takes over still reads everything sampled up to then.
 *
 * Frames are code addresses. Those in cell code are named at first sight,
 * in the process that ran them (the snapshot never saw that cell's code);
 * library addresses are named later with dladdr (the same libraries sit
 * at the same addresses in the snapshot). */
#ifndef NB_PROF_RECORD_H
#define NB_PROF_RECORD_H
#include <stddef.h>
#include <stdint.h>

#define PROF_DEPTH 48               /* frames kept per stack, innermost first */
#define PROF_FRAMES 16384           /* distinct code addresses named (a hash) */
#define PROF_SITES 8192             /* distinct allocation stacks */
#define PROF_NAME 64

/* How a stack ended (a sample's flags). */
enum {
    PROF_END_ROOT = 0,              /* at the code that ran the cell, or a thread's start */
    PROF_CUT_LIBRARY = 1,           /* in a library that keeps no frame pointers */
    PROF_CUT_FRAME = 2,             /* a frame pointer that cannot be read or makes no sense */
    PROF_CUT_DEPTH = 3,             /* deeper than PROF_DEPTH */
    PROF_END_RUNTIME = 4            /* at the kernel's runtime (nb_bench and the like) */
};

/* How the cell kept the samples' signal from the sampler (prof_region.signal_lost). */
enum { PROF_SIGNAL_BLOCKED = 1, PROF_SIGNAL_HANDLER = 2 };

typedef struct prof_frame {
    uintptr_t pc;                   /* 0: empty slot */
    int state;                      /* 1 being named, 2 cell code, 3 other code */
    int cell;                       /* the execution count that compiled it */
    uint32_t offset;                /* into its function */
    char name[PROF_NAME];           /* the cell function ("" for other code) */
} prof_frame;

typedef struct prof_site {
    uint64_t hash;                  /* 0: empty */
    uint32_t depth, flags;
    uint64_t allocs, bytes;
    int64_t live_bytes;
    uintptr_t pcs[PROF_DEPTH];
} prof_site;

typedef struct prof_region {
    volatile int active;            /* CPU sampling on */
    volatile int heap;              /* allocations charged to sites */
    int hz, cell;
    uint64_t samples, dropped;      /* CPU samples taken; lost for want of room */
    uint64_t handler_ns;            /* time spent taking them */
    uint64_t cpu_ns;                /* the process's CPU time while sampling */
    uint64_t heap_untracked;        /* allocations whose block could not be followed */
    uint64_t used, cap;             /* words of LOG */
    int threads;                    /* threads sampled */
    int signo;                      /* the samples' signal: SIGTRAP (perf's sigtrap) or SIGPROF */
    int signal_lost;                /* PROF_SIGNAL_*: the cell took SIGNO from the sampler */
    prof_frame frames[PROF_FRAMES];
    prof_site sites[PROF_SITES];
    uint64_t log[];                 /* samples: (depth | flags << 8), then DEPTH pcs */
} prof_region;

/* The record (NULL before prof_region_make). */
prof_region *prof_region_get(void);
/* Map the record (and the heap profile's table of blocks) now: at the
 * worker's start, so that a memory limit set later counts them as there
 * already, and so that every snapshot shares the record. 0 or -1. */
int prof_region_make(void);

/* Names cell code for frames: *NAME (N bytes), *CELL, *OFFSET into the
 * function; 0 if ADDR is not in a cell's function. Called in a signal
 * handler: reads only, no malloc. */
typedef int (*prof_resolver_fn)(const void *addr, char *name, size_t n, int *cell, uint32_t *offset);
void prof_set_resolver(prof_resolver_fn fn);

/* CPU sampling of every thread of the process at HZ per CPU second;
 * HEAP: charge allocations to their stacks instead. 0 or -1. */
int prof_start(int hz, int heap, int cell);
/* Stop sampling (the record stays until the next start). */
void prof_stop(void);
/* The frame record of PC (named now if it was not yet), or NULL. */
const prof_frame *prof_frame_of(uintptr_t pc);

/* Walk the stack from PC/FP/SP into PCS (at most MAX); returns the depth
 * and sets *FLAGS to how it ended. Never faults. */
int prof_walk(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t *pcs, int max, uint32_t *flags);
/* The same from inside the allocator, for the call that returns to SITE. */
int prof_walk_alloc(uintptr_t site, uintptr_t *pcs, int max, uint32_t *flags);

/* profile_heap.c: the allocator's hook. OLD freed (NULL: none), NEW of N
 * bytes allocated (NULL: none); a realloc gives both. */
extern volatile int prof_heap_on;
void prof_heap_note(const void *old, const void *new_block, size_t n, const void *site);
int prof_heap_reserve(void);
void prof_heap_begin(void);
void prof_heap_end(void);

#endif
