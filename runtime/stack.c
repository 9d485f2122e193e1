/* stack.c - how deep a cell went into the main thread's stack.
 *
 * Painting the whole stack before every cell would cost a page fault per
 * page (the worker forks a snapshot before each cell, so every page it
 * writes is copied) and megabytes of RSS. Instead, at the start of a cell
 * the pages below the caller's frame are given back to the kernel
 * (MADV_DONTNEED: they read as zero and are not resident), and the few
 * hundred bytes between the last dropped page and the stack pointer are
 * zeroed. At the end, mincore() names the deepest page the cell made
 * resident, and the lowest non-zero byte in it gives the depth to within a
 * word (a page whose bytes are all zero counts whole). Those pages are
 * given back again, so a cell that once used megabytes does not keep them.
 * The floor is the frames of nb_internal_cell_end and this file (about
 * 100 bytes): a cell that used less shows that much.
 *
 * The runtime's own functions that cells call (nb_where, nb_memory_map,
 * displays, tables...) run below the cell's stack pointer too, and some
 * take kilobytes (printf, /proc/self/maps). They are not the cell's: each
 * brackets its work with RT_STACK_ENTER / RT_STACK_LEAVE. Entering records
 * the cell's depth so far (its stack pointer at the call, or a deeper trace
 * it left earlier); leaving wipes what the runtime wrote below (pages given
 * back, the rest zeroed), so only the runtime's entry frame, a few words,
 * stays in the figure.
 *
 * Owns: the stack mapping's bounds and the cell's base frame. Only the
 * main thread's stack is measured. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "nb.h"
#include "rt.h"

#define PAGE 4096u
#define MARGIN 512u              /* below our own stack pointer: kept, zeroed */

static uintptr_t base;           /* the cell's frame: everything below is the cell's */
static uintptr_t lo, hi;         /* the stack mapping */
static uintptr_t drop_top;       /* pages in [lo, drop_top) were dropped */
static uint64_t recorded;        /* the cell's deepest use seen on entering the runtime */
static int runtime_calls;        /* nesting of RT_STACK_ENTER on the main stack */

static inline uintptr_t current_sp(void) {
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

/* Read the bounds of the mapping that holds SP. */
static int find_stack(uintptr_t sp) {
    rt_map *maps = NULL;
    int n = rt_maps_read(&maps);
    int ok = 0;
    for (int i = 0; i < n; i++)
        if (maps[i].lo <= sp && sp < maps[i].hi) {
            lo = maps[i].lo;
            hi = maps[i].hi;
            ok = 1;
        }
    rt_inside_begin();
    free(maps);
    rt_inside_end();
    return ok;
}

static int resident(uintptr_t page) {
    unsigned char v = 0;
    return mincore((void *)page, PAGE, &v) == 0 && (v & 1);
}

void rt_stack_begin(uintptr_t frame) {
    uintptr_t sp = current_sp();
    base = frame;
    recorded = 0;
    runtime_calls = 0;
    /* Unknown, or the worker went deeper than the mapping we knew. */
    if (!lo || sp < lo || sp >= hi || resident(lo)) {
        if (!find_stack(sp)) { lo = hi = drop_top = 0; return; }
    }
    drop_top = (sp - MARGIN) & ~(uintptr_t)(PAGE - 1);
    if (drop_top > lo) madvise((void *)lo, drop_top - lo, MADV_DONTNEED);
    /* Zero the rest up to our stack pointer, madvise's return address
     * included, without calling anything (a call would leave its own). */
    for (volatile uint64_t *w = (uint64_t *)drop_top; (uintptr_t)w < sp; w++) *w = 0;
}

/* Bind the functions used above now: a first call through the PLT runs
 * the dynamic linker's resolver, which takes kilobytes of stack, and
 * would look like the first cell's. */
__attribute__((constructor)) static void stack_prebind(void) {
    unsigned char v;
    uintptr_t page = current_sp() & ~(uintptr_t)(PAGE - 1);
    if (mincore((void *)page, PAGE, &v) < 0) return;
    madvise((void *)page, 0, MADV_NORMAL);
}

uintptr_t rt_stack_base(void) { return base; }

/* The lowest resident page in [from, to), or 0. */
static uintptr_t lowest_resident(uintptr_t from, uintptr_t to) {
    static unsigned char vec[4096];
    for (uintptr_t a = from; a < to;) {
        size_t pages = (to - a) / PAGE;
        if (pages > sizeof vec) pages = sizeof vec;
        if (mincore((void *)a, pages * PAGE, vec) < 0) return 0;
        for (size_t i = 0; i < pages; i++)
            if (vec[i] & 1) return a + i * PAGE;
        a += pages * PAGE;
    }
    return 0;
}

/* The lowest non-zero word in [from, to), or TO. */
static inline __attribute__((always_inline)) uintptr_t lowest_nonzero(uintptr_t from, uintptr_t to) {
    for (const volatile uint64_t *w = (const uint64_t *)from; (uintptr_t)w < to; w++)
        if (*w) return (uintptr_t)w;
    return to;
}

/* The lowest trace (non-zero word, or a touched page) below TOP, or TOP;
 * *PAGE gets the lowest resident page below the dropped ones (0: none).
 * SP is the caller's stack pointer (to re-read a grown mapping). */
static uintptr_t deepest_trace(uintptr_t top, uintptr_t sp, uintptr_t *page_out) {
    uintptr_t deepest = lowest_nonzero(drop_top, top);
    uintptr_t page = drop_top > lo ? lowest_resident(lo, drop_top) : 0;
    if (page && page == lo) {
        /* The cell may have grown the mapping below what we knew. */
        uintptr_t old_lo = lo;
        if (find_stack(sp) && lo < old_lo) {
            uintptr_t deeper = lowest_resident(lo, old_lo);
            if (deeper) page = deeper;
        }
    }
    if (page) {
        deepest = lowest_nonzero(page, page + PAGE);
        if (deepest == page + PAGE) deepest = page;     /* touched, all zero */
    }
    *page_out = page;
    return deepest;
}

uint64_t rt_stack_peak(int clean, int *ok) {
    uintptr_t sp = current_sp();
    *ok = 0;
    if (!base || !lo || !drop_top) return 0;
    /* First the kept bytes above the dropped pages, before any call of
     * ours leaves a return address there. */
    uintptr_t page;
    uintptr_t deepest = deepest_trace(sp < base ? sp : base, sp, &page);
    if (clean && page && drop_top > page) madvise((void *)page, drop_top - page, MADV_DONTNEED);
    *ok = 1;
    uint64_t depth = deepest < base ? (uint64_t)(base - deepest) : 0;
    return depth > recorded ? depth : recorded;
}

/* ------------------------------------------------ the runtime's frames */

uintptr_t rt_stack_enter(uintptr_t cell_sp) {
    uintptr_t sp = current_sp();
    if (!base || !drop_top || sp < lo || sp >= hi) return 0;    /* no cell, or another thread */
    if (runtime_calls++) return 1;                              /* nested: the outer one records */
    uintptr_t page;
    uintptr_t deepest = deepest_trace(sp, sp, &page);
    if (deepest >= sp) deepest = cell_sp;       /* nothing deeper than the runtime's own frames */
    uint64_t depth = deepest < base ? (uint64_t)(base - deepest) : 0;
    if (depth > recorded) recorded = depth;
    return cell_sp;
}

void rt_stack_leave(uintptr_t token) {
    if (!token) return;
    runtime_calls--;
    if (token == 1) return;
    uintptr_t sp = current_sp();
    /* Whole pages from MARGIN below ours: the calls below (mincore,
     * madvise) keep their frames above them. Without the margin, a
     * stack pointer at a page's start put madvise's own return address
     * on the page it gave back, and the call returned to address 0. */
    uintptr_t below = (sp - MARGIN) & ~(uintptr_t)(PAGE - 1);
    uintptr_t limit = below < drop_top ? below : drop_top;
    uintptr_t page = limit > lo ? lowest_resident(lo, limit) : 0;
    if (page) madvise((void *)page, limit - page, MADV_DONTNEED);
    /* The rest up to our stack pointer, without calling anything (a call
     * pushes its return address there). Whole pages go back by a bare
     * system call: zeroed instead, a page the runtime alone had touched
     * would stay resident and count whole, 4 KiB more in the figure
     * whenever our stack pointer sat low in its page (it moves with the
     * stack's random placement: one fresh worker in six). */
    uintptr_t sp_page = sp & ~(uintptr_t)(PAGE - 1), zero_from = limit;
    if (sp_page > limit) {
        long rc;
        __asm__ volatile("syscall" : "=a"(rc)
                         : "0"((long)SYS_madvise), "D"(limit), "S"(sp_page - limit), "d"((long)MADV_DONTNEED)
                         : "rcx", "r11", "memory");
        (void)rc;
        zero_from = sp_page;
    }
    for (volatile uint64_t *w = (uint64_t *)zero_from; (uintptr_t)w < sp; w++) *w = 0;
}

unsigned long nb_stack_depth(void) {
    uintptr_t caller_sp = (uintptr_t)__builtin_frame_address(0) + 16;
    return base > caller_sp ? (unsigned long)(base - caller_sp) : 0;
}

unsigned long nb_stack_peak(void) {
    RT_STACK_ENTER();
    int ok;
    /* entering measured the cell's depth, without this call's frames */
    unsigned long peak = rt_stack_token_ > 1 ? (unsigned long)recorded : (unsigned long)rt_stack_peak(0, &ok);
    RT_STACK_LEAVE();
    return peak;
}
