/* sampler_cost.c - where %%profile's overhead goes (README "Profiling").
 *
 * The same CPU-bound loop runs under each way of being sampled, the ways
 * interleaved round after round in one process, and each is compared in
 * CPU time with the unsampled loop of its own round (the median of the
 * rounds: other jobs on the machine make single runs lie):
 *   timer          a perf_event_open cpu-clock event on the thread, as
 *                  %%profile makes it, that signals nobody: the hrtimer
 *                  interrupts alone;
 *   timer+signal   the same sending SIGPROF to an empty handler: what
 *                  delivering the signal adds;
 *   +cpu clock     a handler that reads the thread's CPU clock twice, as
 *                  the sampler did to time itself (two system calls);
 *   timer+sigtrap  the event's own SIGTRAP (perf's sigtrap, Linux 5.13),
 *                  queued on the thread's way back to user mode instead
 *                  of by an interrupt the kernel sends itself;
 *   posix timer    a timer on the thread's CPU clock instead: checked at
 *                  the scheduler's tick, so at most the tick's rate.
 * Usage: sampler_cost [HZ [ROUNDS [LOOP]]]   (1000, 15, 200000000) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { NONE, TIMER, SIGNAL, CLOCKS, SIGTRAP_, POSIX, MODES };
static const char *const names[MODES] = { "none", "timer", "timer+signal", "+cpu clock",
                                          "timer+sigtrap", "posix timer" };
static volatile double sink;
static volatile long signals;

static double cpu_s(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void on_signal(int sig) { (void)sig; signals++; }
static void on_signal_clocks(int sig) {
    (void)sig;
    cpu_s(CLOCK_THREAD_CPUTIME_ID);
    cpu_s(CLOCK_THREAD_CPUTIME_ID);
    signals++;
}

static int perf_timer(int hz, int signal_it, int sigtrap) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.sample_period = (unsigned long long)(1000000000L / hz);
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.wakeup_events = 1;
    a.sigtrap = (unsigned)sigtrap;
    a.remove_on_exec = (unsigned)sigtrap;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) { perror("perf_event_open"); exit(1); }
    struct f_owner_ex owner = { F_OWNER_TID, (pid_t)syscall(SYS_gettid) };
    if (signal_it && !sigtrap &&
        (fcntl(fd, F_SETFL, O_ASYNC) < 0 || fcntl(fd, F_SETSIG, SIGPROF) < 0 ||
         fcntl(fd, F_SETOWN_EX, &owner) < 0)) {
        perror("fcntl");
        exit(1);
    }
    return fd;
}

/* CPU seconds of LOOP iterations sampled the way MODE says. */
static double run(int mode, int hz, long loop) {
    signal(SIGPROF, mode == CLOCKS ? on_signal_clocks : on_signal);
    signal(SIGTRAP, on_signal);
    int fd = -1;
    timer_t timer;
    if (mode >= TIMER && mode <= SIGTRAP_) fd = perf_timer(hz, mode != TIMER, mode == SIGTRAP_);
    if (mode == POSIX) {
        struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGPROF };
        ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        long ns = 1000000000L / hz;
        struct timespec every = { ns / 1000000000L, ns % 1000000000L };
        struct itimerspec it = { every, every };
        if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &timer) < 0) {
            perror("timer_create");
            exit(1);
        }
        timer_settime(timer, 0, &it, NULL);
    }
    double t0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID), s = 0;
    for (long i = 0; i < loop; i++) s += (double)i * 0.5;
    sink = s;
    double t = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - t0;
    if (fd >= 0) close(fd);
    if (mode == POSIX) timer_delete(timer);
    return t;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int hz = argc > 1 ? atoi(argv[1]) : 1000, rounds = argc > 2 ? atoi(argv[2]) : 15;
    long loop = argc > 3 ? atol(argv[3]) : 200000000L;
    double *extra = calloc((size_t)(MODES * rounds), sizeof *extra);
    long sig[MODES] = { 0 };
    for (int r = 0; r < rounds; r++) {
        double base = run(NONE, hz, loop);
        for (int m = TIMER; m < MODES; m++) {
            long before = signals;
            double t = run(m, hz, loop), after = run(NONE, hz, loop);
            extra[m * rounds + r] = 100.0 * (t / ((base + after) / 2) - 1);
            sig[m] += signals - before;
            base = after;
        }
    }
    printf("%d Hz asked, %d rounds: CPU time added, median (quartiles)\n", hz, rounds);
    for (int m = TIMER; m < MODES; m++) {
        double *x = extra + m * rounds;
        qsort(x, (size_t)rounds, sizeof *x, by_value);
        printf("  %-13s %+5.2f%%  (%+.2f%% .. %+.2f%%)  %ld signals\n", names[m], x[rounds / 2],
               x[rounds / 4], x[3 * rounds / 4], sig[m]);
    }
    free(extra);
    return 0;
}
