"""Issue 4, item 5: no zombie and no orphan processes survive shutdown or
restart, whatever the cells started: children that sleep on, a daemon that
double-forked into a session of its own, threads, unreaped zombies.

Processes are found by walking /proc: the kernel's descendants (also those
reparented to it, its own subreaper) and everything in its session."""
import os
import time

import pytest

from conftest import (
    alive, describe, kernel_family, kernel_pid, run_ok, start_kernel, stop_kernel, wait_gone,
)

SPAWN = r"""
#include <sys/wait.h>
#include <pthread.h>
/* a child that sleeps on, in the worker's process group */
if (fork() == 0) { sleep(300); _exit(0); }
/* a child that ignores SIGTERM and SIGHUP */
if (fork() == 0) { signal(SIGTERM, SIG_IGN); signal(SIGHUP, SIG_IGN); sleep(300); _exit(0); }
/* a daemon: double fork, new session, new process group */
if (fork() == 0) { setsid(); if (fork() == 0) { sleep(300); _exit(0); } _exit(0); }
/* children that exit at once and are never waited for: zombies */
for (int i = 0; i < 3; i++) if (fork() == 0) _exit(0);
/* a thread that runs on */
void *spin(void *a) { for (;;) usleep(1000); return a; }
pthread_t t; pthread_create(&t, 0, spin, 0);
printf("spawned\n");
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


def spawn_and_wait(km, kc, expect=5):
    """Run SPAWN; return the kernel's processes once the daemon is there."""
    assert "spawned" in run_ok(kc, SPAWN, timeout=15)
    deadline = time.monotonic() + 5
    while True:
        procs = kernel_family(km)
        # kernel, worker, 2 sleepers, the daemon
        if len(alive(procs)) >= expect or time.monotonic() > deadline:
            return procs
        time.sleep(0.02)


def test_nothing_survives_shutdown():
    km, kc = start_kernel()
    try:
        procs = spawn_and_wait(km, kc)
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
        kc.execute_interactive(
            "if (fork() == 0) { setsid(); sleep(300); _exit(0); }\n"
            "if (fork() == 0) { sleep(300); _exit(0); }\n"
            "usleep(50000);\n*(volatile int *)0 = 1;", timeout=15)
        procs = kernel_family(km)
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
