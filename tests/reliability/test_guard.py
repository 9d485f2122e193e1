"""A cell never kills the kernel or cuts the worker off from it (README
"What happens when a cell crashes", "Security"): every way a cell could
signal, trace or write into the kernel process fails with EPERM (the
worker's seccomp filter, worker/guard_filter.c; the kernel not dumpable),
and a cell that closes every descriptor keeps its session (worker/guard.c).
Each case checks the kernel process is the same one, alive, answering, and
the session's state kept (or its loss said)."""
import os

import pytest

from conftest import (
    KILL_THE_SNAPSHOT, assert_state, errors, kernel_pid, run, run_ok, setup_state, stdout_text,
)

HEAD = ("#define _GNU_SOURCE\n#include <errno.h>\n#include <fcntl.h>\n#include <sys/ptrace.h>\n"
        "#include <sys/resource.h>\n#include <sys/syscall.h>\n#include <sys/uio.h>\n"
        "#include <sys/wait.h>\n#include <sys/ioctl.h>\n#include <string.h>\n#include <pthread.h>\n"
        "#define ENAME(e) ((e) == EPERM ? \"EPERM\" : strerror(e))\n")

# pidfd_send_signal through a descriptor of /proc/K (K: the kernel's pid).
PROC_DIR_SIGNAL = ('({ char dir[64]; snprintf(dir, sizeof dir, "/proc/%d", K);\n'
                   "int d = open(dir, O_RDONLY | O_DIRECTORY);\n"
                   "long s = syscall(SYS_pidfd_send_signal, d, SIGKILL, 0, 0); int e = errno;\n"
                   "close(d); errno = e; s; })")

# What each cell does to the kernel (K is its pid): it must fail with EPERM.
ATTACKS = {
    "kill": "kill(K, SIGKILL)",
    "kill_probe": "kill(K, 0)",
    "raw_kill_high_bits": "syscall(SYS_kill, (long)K | (1L << 32), SIGKILL)",
    "tgkill": "syscall(SYS_tgkill, K, K, SIGKILL)",
    "tkill": "syscall(SYS_tkill, K, SIGKILL)",
    "rt_sigqueueinfo": "({ siginfo_t si = { .si_code = SI_QUEUE }; syscall(SYS_rt_sigqueueinfo, K, SIGKILL, &si); })",
    "its_process_group": "kill(-getpgid(K), SIGKILL)",
    "sigqueue": "sigqueue(K, SIGTERM, (union sigval){ 0 })",
    "pidfd_open": "syscall(SYS_pidfd_open, K, 0)",
    "ptrace_attach": "ptrace(PTRACE_ATTACH, K, 0, 0)",
    "ptrace_seize": "ptrace(PTRACE_SEIZE, K, 0, 0)",
    "process_vm_writev": "({ char b[8] = {0}; struct iovec l = { b, 8 }, r = { (void *)0x10000, 8 };"
                         " process_vm_writev(K, &l, 1, &r, 1, 0); })",
    "prlimit": "({ struct rlimit none = { 0, 0 }; prlimit(K, RLIMIT_NOFILE, &none, 0); })",
    "join_its_group_then_kill_ours": "setpgid(0, getpgid(K))",
    "sigio_owner": "fcntl(0, F_SETOWN, K)",
    "sigio_owner_ex": "({ int o[2] = { 1 /* F_OWNER_PID */, K }; fcntl(0, 15 /* F_SETOWN_EX */, o); })",
    "sigio_owner_ioctl": "ioctl(0, 0x8901 /* FIOSETOWN */, &K)",
    # a descriptor of /proc/K works as a pidfd: the kernel process judges it
    "pidfd_of_its_proc_dir": PROC_DIR_SIGNAL,
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_cell_cannot_signal_or_trace_the_kernel(state_kernel, name):
    km, kc = state_kernel
    pid = kernel_pid(km)
    out = run_ok(kc, HEAD + f"{{ int K = getppid(); errno = 0; long r = (long)({ATTACKS[name]});\n"
                            'printf("%ld %s\\n", r, ENAME(errno)); }', timeout=20)
    assert out == "-1 EPERM\n", (name, out)
    assert kernel_pid(km) == pid and os.path.exists(f"/proc/{pid}")
    assert_state(kc)


def test_no_thread_of_the_kernel_can_be_signalled(state_kernel):
    """kill() or tkill() of any thread reaches the whole process: every
    thread the kernel has (its ZeroMQ threads, the heartbeat) is covered."""
    km, kc = state_kernel
    pid = kernel_pid(km)
    tids = os.listdir(f"/proc/{pid}/task")
    assert len(tids) > 1, tids
    out = run_ok(kc, HEAD + "#include <dirent.h>\n"
                 '{ char path[64]; snprintf(path, sizeof path, "/proc/%d/task", getppid());\n'
                 "DIR *d = opendir(path); struct dirent *e; int n = 0, refused = 0;\n"
                 "while ((e = readdir(d))) if (e->d_name[0] != '.') { int tid = atoi(e->d_name); n++;\n"
                 "    errno = 0; refused += syscall(SYS_tkill, tid, SIGKILL) == -1 && errno == EPERM;\n"
                 "    errno = 0; refused += kill(tid, SIGKILL) == -1 && errno == EPERM;\n"
                 "    errno = 0; refused += syscall(SYS_tgkill, getppid(), tid, SIGKILL) == -1 && errno == EPERM;\n"
                 "    int K = tid; errno = 0; refused += " + PROC_DIR_SIGNAL + " == -1 && errno == EPERM; }\n"
                 'closedir(d); printf("%d %d\\n", n, refused); }')
    n, refused = map(int, out.split())
    assert n == len(tids) and refused == 4 * n, out
    assert os.path.exists(f"/proc/{pid}")
    assert_state(kc)


def test_the_kernels_memory_cannot_be_opened(state_kernel):
    """Not dumpable, and no CAP_SYS_PTRACE in the worker even as root."""
    km, kc = state_kernel
    out = run_ok(kc, HEAD + '{ char path[64]; snprintf(path, sizeof path, "/proc/%d/mem", getppid());\n'
                            'int fd = open(path, O_RDWR);\nprintf("%d %s\\n", fd, ENAME(errno)); }')
    assert out in ("-1 EPERM\n", "-1 Permission denied\n"), out
    assert_state(kc)


def test_every_process_of_the_user_is_out_of_reach(state_kernel):
    """kill(-1, sig) would reach every process of the user (the notebook
    server, other kernels, all of it for root): it fails with EPERM. SIGKILL
    is sent only once SIGURG (ignored by default: harmless if it went out)
    was seen to fail, so a missing filter cannot take the machine down."""
    km, kc = state_kernel
    pid = kernel_pid(km)
    out = run_ok(kc, HEAD + "{ errno = 0; int r = kill(-1, SIGURG), e = errno, k = 0, ke = 0;\n"
                            "if (r == -1 && e == EPERM) { errno = 0; k = kill(-1, SIGKILL); ke = errno; }\n"
                            'printf("%d %s %d %s\\n", r, ENAME(e), k, ENAME(ke)); }')
    assert out == "-1 EPERM -1 EPERM\n", out
    assert os.path.exists(f"/proc/{pid}")
    assert_state(kc)


def test_what_a_program_may_do_still_works(state_kernel):
    """Signals to itself, to its children, to its process group's children,
    threads, and fork: as in a program."""
    km, kc = state_kernel
    out = run_ok(kc, HEAD + "void *spin_a_while(void *a) { usleep(1000); return a; }\n"
                 "{ int self = kill(getpid(), 0);\n"
                 "pid_t c = fork(); if (c == 0) { pause(); _exit(3); }\n"
                 "int child = kill(c, SIGTERM); int st; waitpid(c, &st, 0);\n"
                 "pthread_t t; pthread_create(&t, 0, spin_a_while, 0);\n"
                 "int thread = pthread_kill(t, 0); pthread_join(t, 0);\n"
                 "signal(SIGUSR1, SIG_IGN); int own = raise(SIGUSR1);\n"
                 "c = fork(); if (c == 0) { pause(); _exit(3); }\n"
                 "int pfd = syscall(SYS_pidfd_open, c, 0);\n"
                 "int by_pidfd = syscall(SYS_pidfd_send_signal, pfd, SIGINT, 0, 0); int st2;\n"
                 "waitpid(c, &st2, 0);\n"
                 'printf("%d %d %d %d %d %d %d\\n", self, child, WTERMSIG(st), thread, own, by_pidfd, '
                 "WTERMSIG(st2)); }")
    assert out == "0 0 15 0 0 0 2\n", out
    assert_state(kc)


def test_traceme_makes_no_tracer_of_the_kernel(state_kernel):
    """PTRACE_TRACEME makes the parent, the kernel, the tracer: the kernel
    lets go at once, so the cell goes on as if nobody traced it (a signal
    it ignores is ignored; one it does not handle kills it, rolled back)."""
    km, kc = state_kernel
    out = run_ok(kc, HEAD + "g_state = 8;\nptrace(PTRACE_TRACEME, 0, 0, 0);\nsignal(SIGUSR1, SIG_IGN);\n"
                            'raise(SIGUSR1);\nprintf("went on\\n");\ng_state = 1234;')
    assert out == "went on\n", out
    reply, msgs = run(kc, HEAD + "g_state = 9;\nptrace(PTRACE_TRACEME, 0, 0, 0);\nraise(SIGUSR2);", timeout=20)
    assert reply["status"] == "error" and "SIGUSR2" in reply["evalue"], reply
    assert_state(kc)


def test_killing_its_own_process_group_costs_the_cell_only(fresh_kernel):
    """kill(0, SIGKILL) kills the cell's process and its children, as in a
    program; the snapshot is in a group of its own and takes over."""
    km, kc = fresh_kernel
    pid = kernel_pid(km)
    setup_state(kc)
    reply, msgs = run(kc, "g_state = 99;\nkill(0, SIGKILL);", timeout=20)
    assert reply["status"] == "error", reply
    text = "\n".join(errors(msgs)[0]["traceback"])
    assert "went back to the state from before this cell" in text, text
    assert kernel_pid(km) == pid and os.path.exists(f"/proc/{pid}")
    assert_state(kc)
    assert_proc_dir_signal_refused(kc)


def assert_proc_dir_signal_refused(kc):
    """The kernel still answers the filter's questions (after a snapshot
    took over, or a new worker was started)."""
    out = run_ok(kc, HEAD + "{ int K = getppid(); errno = 0; long r = " + PROC_DIR_SIGNAL + ";\n"
                            'printf("%ld %s\\n", r, ENAME(errno)); }', timeout=20)
    assert out == "-1 EPERM\n", out


# Ways to close (or take over) every descriptor: the session must live on.
CLOSERS = {
    "close_loop": "for (int fd = 0; fd < 1024; fd++) close(fd);",
    "close_range": "close_range(0, ~0U, 0);",
    "closefrom": "closefrom(0);",
    "closefrom_3_after_stdio": "close(0); close(1); close(2); closefrom(3);",
    "dup2_over_all": 'int nul = open("/dev/null", O_RDWR);\n'
                     "for (int fd = 3; fd < 1024; fd++) if (fd != nul) dup2(nul, fd);",
}


@pytest.mark.parametrize("name", sorted(CLOSERS))
def test_closing_every_descriptor_keeps_the_session(state_kernel, name):
    km, kc = state_kernel
    pid = kernel_pid(km)
    reply, msgs = run(kc, HEAD + "g_state = 5;\n" + CLOSERS[name] + '\nnb_display_html("<b>still here</b>");',
                      timeout=20)
    assert reply["status"] == "ok", (name, reply, errors(msgs))
    shown = [m for m in msgs if m["msg_type"] == "display_data"
             and "still here" in m["content"]["data"].get("text/html", "")]
    assert shown, f"{name}: the display after the close never came"
    assert os.path.exists(f"/proc/{pid}")
    assert run_ok(kc, 'printf("%d\\n", g_state); g_state = 1234;') == "5\n"
    assert_state(kc)


def test_closing_every_descriptor_then_crashing_rolls_back(state_kernel):
    km, kc = state_kernel
    reply, _ = run(kc, "g_state = 6;\nfor (int fd = 0; fd < 1024; fd++) close(fd);\n*(volatile int *)0 = 1;",
                   timeout=20)
    assert reply["status"] == "error" and reply["ename"] == "Crash", reply
    assert_state(kc)


def test_a_cells_first_descriptor_is_3_as_in_a_program(fresh_kernel):
    """The worker's pipes live out of the way (a cell's descriptors, like
    its globals, stay open into later cells: hence a fresh kernel)."""
    km, kc = fresh_kernel
    out = run_ok(kc, HEAD + '{ int fd = open("/dev/null", O_RDONLY); printf("%d\\n", fd); close(fd); }')
    assert out == "3\n", out


def test_as_a_user_without_privileges(tmp_path):
    """As on a JupyterHub: the kernel runs as an ordinary user (nobody, when
    the tests run as root). The filter needs no privilege (no_new_privs),
    the kernel's memory is closed to the user's own cells, and the pipes
    are found again in the snapshot."""
    import pwd
    import shutil
    from test_admin_limits import start
    from conftest import stop_kernel
    as_user = pwd.getpwnam("nobody") if os.getuid() == 0 else None
    if as_user and not shutil.which("setpriv"):
        pytest.skip("no setpriv to run the kernel as another user")
    km, kc = start(tmp_path, env={}, as_user=as_user)
    try:
        pid = kernel_pid(km)
        run_ok(kc, HEAD + "int kept = 1;")
        out = run_ok(kc, '{ char path[64]; snprintf(path, sizeof path, "/proc/%d/mem", getppid());\n'
                         "int k = kill(getppid(), SIGKILL), ke = errno; errno = 0;\n"
                         "int m = open(path, O_RDWR), me = errno;\n"
                         'printf("%d %d %s %d %s\\n", getuid(), k, ENAME(ke), m, ENAME(me)); }')
        uid, rest = out.split(" ", 1)
        assert int(uid) == (as_user.pw_uid if as_user else os.getuid())
        assert rest in ("-1 EPERM -1 Permission denied\n", "-1 EPERM -1 EPERM\n"), out
        assert_proc_dir_signal_refused(kc)
        run_ok(kc, "kept = 2;\nfor (int fd = 0; fd < 1024; fd++) close(fd);")
        assert run_ok(kc, 'printf("%d\\n", kept);') == "2\n"
        assert kernel_pid(km) == pid and os.path.exists(f"/proc/{pid}")
    finally:
        stop_kernel(km, kc)




def test_with_no_snapshot_left_a_cut_off_worker_says_so(fresh_kernel):
    """The cell kills its snapshot, then closes every descriptor: nothing
    holds the pipes any more. The loss is said, and why, not "exit(0)"."""
    km, kc = fresh_kernel
    pid = kernel_pid(km)
    setup_state(kc)
    reply, msgs = run(kc, KILL_THE_SNAPSHOT + "for (int fd = 0; fd < 1024; fd++) close(fd);", timeout=20)
    assert reply["status"] == "error" and "SIGPIPE" in reply["evalue"], reply
    text = "\n".join(errors(msgs)[0]["traceback"])
    assert "the worker's own to the kernel, which the cell closed" in text, text
    assert "both lost" in text and "is lost" in text, text
    reply, msgs = run(kc, 'printf("after\\n");', timeout=20)
    assert "started afresh" in stdout_text(msgs) + "".join(
        m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream"), msgs
    assert os.path.exists(f"/proc/{pid}") and kernel_pid(km) == pid
    assert_proc_dir_signal_refused(kc)
