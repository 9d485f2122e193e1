/* ceilings.c - the administrator's ceilings on cells (see ceilings.h).
 *
 * Owns the CKERNEL_MAX_* variables, the hard resource limits they set at
 * start, the per-cell CPU limit and the process-limit fork. Memory and
 * output limits themselves stay where they were (worker_main.c, the
 * kernel's output cut): this file only lowers their defaults and refuses
 * magics above the ceilings. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "crash.h"
#include "ceilings.h"
#include "log.h"

static struct {
    long memory_mib, output_mib, processes;
    double cpu;
} max;                                 /* the ceilings; 0: none */
static double cell_cpu;                /* %cpu or the ceiling; 0: none */
static pid_t cell_pid;                 /* the process running a cell, or 0 */
#define SIG_AT_PROCESS_LIMIT (SIGRTMIN + 5)   /* a child of the cell's fork failed at the limit */
static int processes_limited;          /* a ceiling or %processes is in force */

static double env_number(const char *name) {
    const char *v = getenv(name);
    char *end;
    double x = v && *v ? strtod(v, &end) : 0;
    if (v && *v && (*end || x < 0)) {
        log_warn("%s=%s is not a number of at least 0: ignored", name, v);
        return 0;
    }
    return x;
}

/* Processes of this real user now: RLIMIT_NPROC counts them all. */
static long user_processes(void) {
    DIR *d = opendir("/proc");
    if (!d) return 0;
    long n = 0;
    struct dirent *e;
    char path[64], line[256];
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%.20s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        unsigned uid;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Uid: %u", &uid) == 1) { n += uid == getuid(); break; }
        fclose(f);
    }
    closedir(d);
    return n;
}

/* The process limit: the user's processes now plus EXTRA (0: as many as
 * the hard limit allows); HARD also lowers the hard limit. */
static int set_processes(long extra, int hard) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NPROC, &rl) < 0) return -1;
    rlim_t want = extra ? (rlim_t)(user_processes() + extra) : rl.rlim_max;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) want = rl.rlim_max;
    rl.rlim_cur = want;
    if (hard) rl.rlim_max = want;
    return setrlimit(RLIMIT_NPROC, &rl);
}

/* The hard address-space limit: what the worker maps now plus the ceiling. */
static void set_memory_ceiling(void) {
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%lu", &pages) != 1) pages = 0;
    if (f) fclose(f);
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) < 0) return;
    rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)max.memory_mib << 20);
    if (rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_AS, &rl) < 0) log_warn("cannot set the memory ceiling: %m");
}

static void on_cpu_limit(int sig) {
    (void)sig;
    char evalue[160];
    snprintf(evalue, sizeof evalue, "the cell used more than %g s of CPU time (the %%cpu limit%s)",
             cell_cpu, cell_cpu == max.cpu ? ", set by the administrator" : "");
    crash_end_cell(CK_CPU_TIME_ERROR, evalue);
}

void ceilings_init(void) {
    max.memory_mib = (long)env_number("CKERNEL_MAX_MEMORY_MIB");
    max.output_mib = (long)env_number("CKERNEL_MAX_OUTPUT_MIB");
    max.processes = (long)env_number("CKERNEL_MAX_PROCESSES");
    max.cpu = env_number("CKERNEL_MAX_CPU_SECONDS");
    cell_cpu = max.cpu;
    processes_limited = max.processes > 0;
    if (max.memory_mib) set_memory_ceiling();
    if (max.processes && set_processes(max.processes, 1) < 0)
        log_warn("cannot set the process limit: %m");
    if (max.processes && getuid() == 0)
        log_warn("CKERNEL_MAX_PROCESSES does not bind root: Linux exempts it");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cpu_limit;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGXCPU, &sa, NULL);
}

unsigned long long ceilings_memory_default(unsigned long long bytes) {
    unsigned long long ceiling = (unsigned long long)max.memory_mib << 20;
    return max.memory_mib && ceiling < bytes ? ceiling : bytes;
}

long ceilings_output_default(long bytes) {
    return max.output_mib && (max.output_mib << 20) < bytes ? max.output_mib << 20 : bytes;
}

/* A value asked for by magic NAME against ceiling MAXV: 0 asks for no limit. */
static const char *over(const char *name, double asked, double maxv, const char *var) {
    static char why[256];
    if (asked < 0 || maxv == 0 || (asked > 0 && asked <= maxv)) return NULL;
    snprintf(why, sizeof why, "%%%s %g%s is above what the administrator allows: at most %g "
             "(%s in the kernelspec); a smaller value is fine", name, asked,
             asked == 0 ? " (no limit)" : "", maxv, var);
    return why;
}

const char *ceilings_check(const magics *m) {
    const char *why = over("memory", (double)m->memory_mib, (double)max.memory_mib, "CKERNEL_MAX_MEMORY_MIB");
    if (!why) why = over("output", (double)m->output_mib, (double)max.output_mib, "CKERNEL_MAX_OUTPUT_MIB");
    if (!why) why = over("cpu", m->cpu, max.cpu, "CKERNEL_MAX_CPU_SECONDS");
    if (!why) why = over("processes", (double)m->processes, (double)max.processes, "CKERNEL_MAX_PROCESSES");
    return why;
}

int ceilings_apply(const magics *m) {
    if (m->cpu >= 0) cell_cpu = m->cpu;
    if (m->processes < 0) return 0;
    processes_limited = max.processes || m->processes;
    return set_processes(m->processes, 0);
}

double ceilings_cell_cpu(void) { return cell_cpu; }

static void on_child_at_limit(int sig);

void ceilings_cell_begin(void) {
    cell_pid = getpid();
    if (processes_limited) signal(SIG_AT_PROCESS_LIMIT, on_child_at_limit);
    if (cell_cpu <= 0) return;
    struct rusage ru;
    struct rlimit rl;
    if (getrusage(RUSAGE_SELF, &ru) < 0 || getrlimit(RLIMIT_CPU, &rl) < 0) return;
    /* the limit is in whole seconds: round up, so the cell never gets less */
    double used = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    rl.rlim_cur = (rlim_t)(used + cell_cpu + 0.999);
    setrlimit(RLIMIT_CPU, &rl);
}

void ceilings_cell_end(void) {
    struct rlimit rl;
    cell_pid = 0;
    if (getrlimit(RLIMIT_CPU, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_CPU, &rl);
    }
}

static __attribute__((noreturn)) void end_at_process_limit(void) {
    char evalue[200];
    struct rlimit rl;
    getrlimit(RLIMIT_NPROC, &rl);
    snprintf(evalue, sizeof evalue, "fork() failed: the cell reached the limit of %llu processes for "
             "this user (%%processes, CKERNEL_MAX_PROCESSES)", (unsigned long long)rl.rlim_cur);
    crash_end_cell(CK_PROCESS_LIMIT_ERROR, evalue);
    _exit(137);
}

/* A child of the cell hit the limit and told the cell's process (below). */
static void on_child_at_limit(int sig) {
    (void)sig;
    if (cell_pid && getpid() == cell_pid) end_at_process_limit();
}

/* Cells that call fork() get this one (runtime/exports.list): at the
 * process limit, a fork bomb ends as its cell's error rather than spinning
 * until a timeout, whichever of its processes hits the limit first (the
 * cell's own may have finished its forks before its children reach it, on
 * a busy machine often). Children that fail keep fork()'s usual -1; they
 * die with the cell. */
pid_t fork(void) {
    static pid_t (*libc_fork)(void);
    if (!libc_fork) libc_fork = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
    pid_t pid = libc_fork();
    if (pid < 0 && errno == EAGAIN && cell_pid && processes_limited) {
        if (getpid() == cell_pid) end_at_process_limit();
        kill(cell_pid, SIG_AT_PROCESS_LIMIT);
        errno = EAGAIN;
    }
    return pid;
}
