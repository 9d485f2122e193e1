/* guard_filter.c - a seccomp filter (libseccomp) that keeps cells, and
 * every program they start, from killing or tampering with the kernel
 * process: the worker's parent.
 *
 * Each system call that names a process by number fails with EPERM when
 * that number is the kernel's (its pid, any of its threads' ids, its
 * process group as -pgid, or -1, "every process"): as for a process the
 * caller may not signal or trace. The filter compares numbers, never what
 * a pointer points to, so what it cannot see is listed in the README
 * ("Security"). Filters outlive fork and exec: the snapshot, the cells'
 * children and %%cc's compiler carry it too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "guard.h"
#include "log.h"

#define MAX_IDS 64
#define LOW32 0xffffffffULL            /* pid_t and int arguments: the kernel reads 32 bits */

typedef struct { uint32_t v[MAX_IDS + 3]; int n; } id_set;

static void add_id(id_set *s, uint32_t v) {
    for (int i = 0; i < s->n; i++) if (s->v[i] == v) return;
    if (s->n < (int)(sizeof s->v / sizeof *s->v)) s->v[s->n++] = v;
}

/* The kernel's pid and its threads' ids: kill() or tkill() of any thread
 * reaches the whole process. Threads it makes later are not known. */
static void kernel_ids(pid_t kernel, id_set *s) {
    add_id(s, (uint32_t)kernel);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)kernel);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) && s->n < MAX_IDS)
        if (e->d_name[0] != '.') add_id(s, (uint32_t)atoi(e->d_name));
    if (d) closedir(d);
}

/* SYSCALL fails with EPERM when argument ARG (32 bits) is any of IDS,
 * and argument ARG2 is VALUE2 if ARG2 >= 0. */
static int deny(scmp_filter_ctx ctx, int syscall, unsigned arg, const id_set *ids,
                int arg2, uint64_t value2) {
    for (int i = 0; i < ids->n; i++) {
        struct scmp_arg_cmp cmp[2] = {
            { arg, SCMP_CMP_MASKED_EQ, LOW32, ids->v[i] },
            { (unsigned)arg2, SCMP_CMP_MASKED_EQ, LOW32, value2 },
        };
        int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), syscall, arg2 >= 0 ? 2 : 1, cmp);
        if (rc == -EDOM || rc == -EINVAL) return 0;     /* no such call on these machines */
        if (rc < 0) return rc;
    }
    return 0;
}

static int add_rules(scmp_filter_ctx ctx, pid_t kernel) {
    id_set ids = { .n = 0 }, groups = { .n = 0 };
    kernel_ids(kernel, &ids);
    pid_t pgid = getpgid(kernel);
    /* kill(): also its process group, and -1 (every process the user has) */
    groups = ids;
    add_id(&groups, (uint32_t)-kernel);
    if (pgid > 0) add_id(&groups, (uint32_t)-pgid);
    add_id(&groups, (uint32_t)-1);
    id_set joins = { .n = 0 };           /* setpgid() into its group */
    add_id(&joins, (uint32_t)kernel);
    if (pgid > 0) add_id(&joins, (uint32_t)pgid);
    int rc = 0;
    rc = rc ?: deny(ctx, SCMP_SYS(kill), 0, &groups, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(tkill), 0, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(tgkill), 0, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(rt_sigqueueinfo), 0, &groups, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(rt_tgsigqueueinfo), 0, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(pidfd_open), 0, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(ptrace), 1, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(process_vm_readv), 0, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(process_vm_writev), 0, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(prlimit64), 0, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(perf_event_open), 1, &ids, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(setpgid), 1, &joins, -1, 0);
    /* SIGIO (or F_SETSIG's signal) sent to an owner the cell names */
    rc = rc ?: deny(ctx, SCMP_SYS(fcntl), 2, &groups, 1, F_SETOWN);
    rc = rc ?: deny(ctx, SCMP_SYS(fcntl64), 2, &groups, 1, F_SETOWN);
    /* the same with the pid behind a pointer, which a filter cannot read:
     * refused whatever the pid (rare calls; F_SETOWN does the same) */
    id_set any = { .n = 0 };
    add_id(&any, F_SETOWN_EX);
    rc = rc ?: deny(ctx, SCMP_SYS(fcntl), 1, &any, -1, 0);
    rc = rc ?: deny(ctx, SCMP_SYS(fcntl64), 1, &any, -1, 0);
    any.v[0] = FIOSETOWN;
    rc = rc ?: deny(ctx, SCMP_SYS(ioctl), 1, &any, -1, 0);
    any.v[0] = SIOCSPGRP;
    rc = rc ?: deny(ctx, SCMP_SYS(ioctl), 1, &any, -1, 0);
    return rc;
}

/* Root's CAP_SYS_PTRACE would open the kernel's memory (/proc/PID/mem)
 * whatever the filter says: the worker, and all it starts, go without. */
static void drop_ptrace_capability(void) {
    prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0);
    struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &head, data) < 0) return;
    int word = CAP_SYS_PTRACE / 32;
    uint32_t bit = 1u << (CAP_SYS_PTRACE % 32);
    if (!((data[word].effective | data[word].permitted | data[word].inheritable) & bit)) return;
    data[word].effective &= ~bit;
    data[word].permitted &= ~bit;
    data[word].inheritable &= ~bit;
    if (syscall(SYS_capset, &head, data) < 0) log_warn("cannot drop CAP_SYS_PTRACE: %m");
}

/* Out of the cells' way and closed on exec, like the pipes (guard.c); the
 * kernel takes its own copy when the worker is ready. */
static void keep_listener(int fd) {
    int high = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 200) : -1;
    if (high >= 0) close(fd);
}

int guard_filter_install(pid_t kernel) {
    drop_ptrace_capability();
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return -ENOMEM;
    int rc = 0;
#if defined(__x86_64__)
    /* int 0x80 reaches the i386 calls from 64-bit code: filter those too */
    rc = seccomp_arch_add(ctx, SCMP_ARCH_X86);
    if (rc == 0 || rc == -EEXIST) rc = seccomp_arch_add(ctx, SCMP_ARCH_X32);
    if (rc == -EEXIST) rc = 0;
#endif
    /* a tree of the calls, not a list: every other call pays a few compares */
    if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    rc = rc ?: add_rules(ctx, kernel);
    /* pidfd_send_signal names its process by a descriptor, which only the
     * kernel process can look into (kernel/guard_notify.c) */
    int notify = !getenv("CKERNEL_GUARD_NO_NOTIFY") && seccomp_api_get() >= 5;
    if (rc == 0 && notify) rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(pidfd_send_signal), 0);
    rc = rc ?: seccomp_load(ctx);       /* sets no_new_privs, which non-root needs */
    if (rc == 0 && notify) keep_listener(seccomp_notify_fd(ctx));
    seccomp_release(ctx);
    return rc;
}
