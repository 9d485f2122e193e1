/* idle.c - what the worker gives back while it waits for a request
 * (idle.h).
 *
 * The compiler's region (scratch.c) keeps its pages between cells, so that
 * a run of cells does not fault them in again each time (1.3 us a page
 * here). But the first cell of most notebooks, the one with the #includes,
 * has libtcc parse whole system headers: 1.4 MiB of pages, where a later
 * cell needs a third of that, and they stayed resident for the whole
 * session. When no request has come for IDLE_MS the worker gives them
 * back; the next cell faults in what it uses (about 0.2 ms for a one-line
 * cell, once after each pause). Run All's cells follow each other within
 * a millisecond and are not affected; a person takes longer than IDLE_MS
 * between two cells. */
#include <errno.h>
#include <poll.h>
#include "idle.h"
#include "scratch.h"

#define IDLE_MS 100

void idle_wait(int fd) {
    struct pollfd p = { fd, POLLIN, 0 };
    int n;
    while ((n = poll(&p, 1, IDLE_MS)) < 0 && errno == EINTR) {}
    if (n == 0) scratch_release();
}
