"""Issue 4, item 5: no zombie and no orphan processes survive shutdown or
restart, whatever the cells started: children that sleep on, a daemon that
double-forked into a session of its own, threads, unreaped zombies.

Processes are found by walking /proc: the kernel's descendants (also those
reparented to it, its own subreaper) and everything in its session."""
import os
import time

import pytest

from conftest import (
    _stat, alive, describe, kernel_family, kernel_pid, run, run_ok, start_kernel, stdout_text,
    stop_kernel, wait_gone,
)

SPAWN = r"""
#include <sys/wait.h>
#include <pthread.h>
/* a child that sleeps on, in the worker's process group */
if (fork() == 0) { sleep(300); _exit(0); }
/* a child that ignores SIGTERM and SIGHUP */
if (fork() == 0) { signal(SIGTERM, SIG_IGN); signal(SIGHUP, SIG_IGN); sleep(300); _exit(0); }
/* a daemon: double fork, new session, new process group; it says its pid */
int daemon_pipe[2]; pipe(daemon_pipe);
if (fork() == 0) { setsid(); if (fork() == 0) { int me = getpid(); write(daemon_pipe[1], &me, sizeof me);
                                                sleep(300); _exit(0); } _exit(0); }
int daemon_pid = 0; read(daemon_pipe[0], &daemon_pid, sizeof daemon_pid);
/* children that exit at once and are never waited for: zombies */
for (int i = 0; i < 3; i++) if (fork() == 0) _exit(0);
/* a thread that runs on */
void *spin(void *a) { for (;;) usleep(1000); return a; }
pthread_t t; pthread_create(&t, 0, spin, 0);
printf("spawned; daemon %d\n", daemon_pid);
"""


def reap_strays(left):
    """Kill what a failing test found left over (by pid and start time, so
    nothing else), so a failure does not leave processes behind."""
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def assert_gone(procs, when):
    left = wait_gone(procs, timeout=5)
    reap_strays(left)
    assert not left, f"left after {when}: {describe(left)}"


def family_with(km, pids, timeout=30):
    """The kernel's processes once all of PIDS are among them (a child is
    counted from when the kernel's tree shows it); fail saying what was found."""
    deadline = time.monotonic() + timeout
    while True:
        procs = kernel_family(km)
        missing = set(pids) - set(alive(procs))
        if not missing:
            return procs
        if time.monotonic() > deadline:
            raise AssertionError(f"{sorted(missing)} not among the kernel's processes "
                                 f"({describe(alive(procs))}); their /proc stat: "
                                 f"{ {p: _stat(p) for p in missing} }")
        time.sleep(0.02)


def spawn_and_wait(km, kc):
    """Run SPAWN; return the kernel's processes once the daemon is among them."""
    out = run_ok(kc, SPAWN, timeout=15)
    daemon = int(out.split("daemon")[1])
    assert daemon > 0, out
    return family_with(km, [daemon])


def test_nothing_survives_shutdown():
    km, kc = start_kernel()
    try:
        procs = spawn_and_wait(km, kc)
        # kernel, worker, 2 sleepers, the daemon (zombies are not alive)
        assert len(alive(procs)) >= 5, f"only found {describe(alive(procs))}"
    finally:
        stop_kernel(km, kc)
    assert_gone(procs, "shutdown")


def test_nothing_survives_a_crash_then_shutdown():
    """Processes started by a cell that then crashed (the snapshot took
    over) are not forgotten."""
    km, kc = start_kernel()
    try:
        run_ok(kc, "int keep = 1;")
        # each child says its pid before the cell crashes
        reply, msgs = run(kc,
            "#include <stdio.h>\n#include <unistd.h>\nint kids[2]; pipe(kids);\n"
            "if (fork() == 0) { setsid(); int me = getpid(); write(kids[1], &me, sizeof me); sleep(300); _exit(0); }\n"
            "if (fork() == 0) { int me = getpid(); write(kids[1], &me, sizeof me); sleep(300); _exit(0); }\n"
            "int a = 0, b = 0; read(kids[0], &a, sizeof a); read(kids[0], &b, sizeof b);\n"
            'printf("kids %d %d\\n", a, b); fflush(stdout);\n'
            "*(volatile int *)0 = 1;", timeout=15)
        assert reply["ename"] == "Crash", reply
        kids = [int(w) for w in stdout_text(msgs).split()[1:3]]
        procs = family_with(km, kids)
        assert run_ok(kc, 'printf("%d\\n", keep);') == "1\n"
    finally:
        stop_kernel(km, kc)
    assert_gone(procs, "shutdown")


def test_nothing_survives_restart():
    km, kc = start_kernel()
    try:
        procs = spawn_and_wait(km, kc)
        old = kernel_pid(km)
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=15)
        assert kernel_pid(km) != old
        assert_gone(procs, "restart")
        assert run_ok(kc, 'printf("new\\n");', timeout=15) == "new\n"
    finally:
        stop_kernel(km, kc)


def test_nothing_survives_the_kernel_being_killed():
    """Even SIGKILL to the kernel (a notebook server's last resort) leaves
    no worker behind: the worker dies with its parent."""
    km, kc = start_kernel()
    try:
        run_ok(kc, "int x = 1;")
        procs = kernel_family(km)
        assert len(procs) >= 2, describe(procs)
        os.kill(kernel_pid(km), 9)
        assert_gone({p: s for p, s in procs.items() if p != kernel_pid(km)}, "the kernel was killed")
    finally:
        stop_kernel(km, kc)


def test_a_forked_child_that_runs_off_the_cell_ends_there():
    """`fork(); printf(...)`, as a first lesson on processes writes it: both
    print, the child ends with the cell, and the session goes on as before
    (the child never acts as the worker)."""
    km, kc = start_kernel()
    try:
        run_ok(kc, "#include <stdio.h>\n#include <unistd.h>\n#include <sys/wait.h>\nint forks = 1;")
        out = run_ok(kc, 'pid_t child = fork();\nprintf("%s\\n", child == 0 ? "child" : "parent");\n'
                         'if (child > 0) waitpid(child, 0, 0);\nforks++;')
        assert sorted(out.split()) == ["child", "parent"], out
        for i in range(3):
            assert run_ok(kc, 'printf("%d %d\\n", forks, getpid() > 0);') == "2 1\n"
    finally:
        stop_kernel(km, kc)


def test_waiting_for_every_child_ends_as_in_a_program():
    """`while (wait(NULL) > 0)` reaps the cell's children and ends (ECHILD),
    as in a compiled program: the snapshot is the kernel's child, never the
    worker's, so a cell cannot wait for it. Then a crash still rolls back."""
    km, kc = start_kernel()
    try:
        run_ok(kc, "#include <stdio.h>\n#include <errno.h>\n#include <unistd.h>\n#include <signal.h>\n"
                   "#include <sys/wait.h>\nint kept = 7;")
        out = run_ok(kc, "for (int i = 0; i < 3; i++) if (fork() == 0) _exit(i);\n"
                         "int reaped = 0;\nwhile (wait(NULL) > 0) reaped++;\n"
                         'printf("%d %d\\n", reaped, errno == ECHILD);', timeout=30)
        assert out == "3 1\n", out
        reply, _ = run(kc, "kept = 8;\nraise(SIGSEGV);")
        assert reply["status"] == "error", reply
        assert run_ok(kc, 'printf("%d\\n", kept);') == "7\n"
    finally:
        stop_kernel(km, kc)


def test_cells_get_default_signals_whatever_the_launcher_ignored():
    """A kernel started from `nohup` or `cmd &` in a script inherits SIGINT,
    SIGQUIT (and SIGHUP) ignored, and exec keeps that. A program started
    from a shell has them at their defaults, and so must a cell: its
    children killed by SIGINT (a test sent SIGINT to a forked child and
    waited for it forever when `make test` ran in the background)."""
    import signal
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGQUIT)}
    try:
        km, kc = start_kernel()
    finally:
        for s, h in saved.items():
            signal.signal(s, h)
    try:
        out = run_ok(kc, "#include <signal.h>\n#include <stdio.h>\n#include <unistd.h>\n"
                         "#include <sys/wait.h>\n"
                         "{ struct sigaction a, q; sigaction(SIGINT, NULL, &a); sigaction(SIGQUIT, NULL, &q);\n"
                         "pid_t c = fork(); if (c == 0) { pause(); _exit(3); }\n"
                         "kill(c, SIGINT); int st; waitpid(c, &st, 0);\n"
                         'printf("%d %d %d\\n", a.sa_handler == SIG_DFL, q.sa_handler == SIG_DFL, '
                         "WIFSIGNALED(st) ? WTERMSIG(st) : -1); }", timeout=20)
        assert out == f"1 1 {signal.SIGINT.value}\n", out
    finally:
        stop_kernel(km, kc)
