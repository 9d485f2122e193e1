"""Issue 18: the snapshot is forked in one step, as the kernel's child
(worker/sibling.c: clone(CLONE_PARENT)), where that can stand in for
fork(); while a thread a cell started runs, in two steps (a middle process the
worker forks, which forks the copy and exits). Either way a crash rolls
the session back.

Which way was taken is seen in /proc: a middle process is the worker's
child, and the worker reaps it, so its page faults are added to the
worker's "children's minor faults" (cminflt); a snapshot made in one step
is never the worker's child. (The worker runs tcc once to preprocess new
system headers, on the cell after their #include: the counts start after
that cell.)"""
from conftest import kernel_pid, run, run_ok, start_kernel, stop_kernel

SETUP = ("#include <stdio.h>\n#include <pthread.h>\n#include <signal.h>\n"
         "#include <unistd.h>\nint kept = 7;\nvolatile int stop;\n"
         "void *wait_stop(void *a) { while (!stop) usleep(1000); return a; }")


def worker_pid(km):
    """The worker: the kernel's child that takes its requests (the oldest)."""
    kernel = kernel_pid(km)
    with open(f"/proc/{kernel}/task/{kernel}/children") as f:
        children = [int(c) for c in f.read().split()]
    return min(children, key=lambda p: int(stat_fields(p)[19]))


def stat_fields(pid):
    """/proc/PID/stat after the command name: [0] state, [1] ppid, ..."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def reaped_children_faults(pid):
    return int(stat_fields(pid)[8])             # cminflt


def reaped_during(km, kc, cells, code):
    """The faults of the worker's reaped children while it runs CODE CELLS times."""
    worker = worker_pid(km)
    before = reaped_children_faults(worker)
    for _ in range(cells):
        run_ok(kc, code)
    return reaped_children_faults(worker) - before


def crash_rolls_back(kc, value):
    reply, _ = run(kc, "kept = -1;\nraise(SIGSEGV);")
    assert reply["status"] == "error", reply
    assert run_ok(kc, 'printf("%d\\n", kept);') == f"{value}\n"


def test_the_snapshot_is_forked_in_one_step():
    km, kc = start_kernel()
    try:
        run_ok(kc, SETUP)
        run_ok(kc, "kept++; kept--;")
        assert reaped_during(km, kc, 10, "kept++; kept--;") == 0, "the worker reaped a middle process"
        crash_rolls_back(kc, 7)
    finally:
        stop_kernel(km, kc)


def test_beside_a_thread_the_snapshot_takes_two_steps():
    km, kc = start_kernel()
    try:
        run_ok(kc, SETUP)
        run_ok(kc, "pthread_t t; pthread_create(&t, 0, wait_stop, 0);")
        assert reaped_during(km, kc, 3, "kept++;") > 0, "no middle process beside a thread"
        run_ok(kc, "stop = 1; pthread_join(t, 0);")     # the thread is gone: one step again
        assert reaped_during(km, kc, 3, "kept++;") == 0, "the worker reaped a middle process"
        crash_rolls_back(kc, 13)
    finally:
        stop_kernel(km, kc)
