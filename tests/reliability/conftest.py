"""Fixtures and helpers for the reliability suite (issue 4).

Everything of tests/protocol/conftest.py is reused (starting kernels,
collecting replies, walking /proc); this adds interrupts, a session state
that each test checks survived, and a watch on the kernel's processes.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
from protocol.conftest import *  # noqa: E402,F401,F403  (fixtures and helpers)
from protocol.conftest import (  # noqa: E402
    _stat, alive, collect, describe, errors, error_text, kernel_pid, process_tree, run,
    run_ok, start_kernel, stop_kernel, stdout_text,
)

# What every state check expects: definitions and global values made
# before the hostile cells, unchanged by them.
STATE_SETUP = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
int g_state = 1234;
char g_name[16] = "kept";
int *g_heap;
int twice(int x) { return 2 * x; }
g_heap = malloc(4 * sizeof *g_heap);
g_heap[3] = 77;
"""
STATE_CHECK = 'printf("%d %s %d %d\\n", g_state, g_name, twice(21), g_heap[3]);'
STATE_EXPECT = "1234 kept 42 77\n"


# A cell that kills its own snapshot (then nothing can take over if it dies).
KILL_THE_SNAPSHOT = r"""
#include <dirent.h>
#include <stdlib.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
DIR *d = opendir("/proc");
struct dirent *e;
while ((e = readdir(d))) {
    char path[300]; int pid = atoi(e->d_name), ppid = 0, pgrp = 0;
    if (pid <= 0 || pid == getpid()) continue;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    /* the snapshot: the kernel's child, in a process group of its own */
    if (fscanf(f, "%*d %*s %*c %d %d", &ppid, &pgrp) == 2 && ppid == getppid() && pgrp == pid)
        kill(pid, SIGKILL);
    else
        pid = 0;
    fclose(f);
    /* until it is dead (a zombie, or reaped): its descriptors are gone then */
    for (char state = 0; pid > 0 && state != 'Z'; usleep(1000)) {
        FILE *s = fopen(path, "r");
        if (!s) break;
        if (fscanf(s, "%*d %*s %c", &state) != 1) state = 'Z';
        fclose(s);
    }
}
"""


def setup_state(kc):
    run_ok(kc, STATE_SETUP)
    assert_state(kc)


def assert_state(kc, timeout=10):
    """The next cell sees every definition and global value as before."""
    out = run_ok(kc, STATE_CHECK, timeout=timeout)
    assert out == STATE_EXPECT, f"session state changed: {out!r}"


@pytest.fixture(scope="module")
def state_kernel():
    """One kernel for a module, with STATE_SETUP run in it; tests must
    leave that state as it was (that is what most of them check)."""
    km, kc = start_kernel()
    try:
        setup_state(kc)
        yield km, kc
    finally:
        stop_kernel(km, kc)


@pytest.fixture
def fresh_kernel():
    km, kc = start_kernel()
    try:
        yield km, kc
    finally:
        stop_kernel(km, kc)


# --------------------------------------------------------------------------
# Interrupts
# --------------------------------------------------------------------------

def interrupt_by_signal(km):
    """As a notebook server does with interrupt_mode "signal": SIGINT."""
    km.interrupt_kernel()


def interrupt_by_message(kc):
    """interrupt_request on the control channel; returns its msg_id."""
    msg = kc.session.msg("interrupt_request", {})
    kc.control_channel.send(msg)
    return msg["header"]["msg_id"]


def wait_stream(kc, msg_id, text, timeout=10):
    """Wait until TEXT has appeared on stdout of request MSG_ID (so that the
    cell is really running); return the iopub messages seen so far."""
    deadline = time.monotonic() + timeout
    seen, out = [], ""
    while text not in out:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{text!r} not printed within {timeout} s; got {out!r}")
        try:
            msg = kc.get_iopub_msg(timeout=left)
        except Exception:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        seen.append(msg)
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out += msg["content"]["text"]
    return seen


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

def session_members(sid):
    """{pid: starttime} of every process in session SID."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st and st[1] == sid:
                found[int(name)] = st[3]
    return found


def kernel_family(km):
    """{pid: starttime} of the kernel, all its descendants (also those that
    left its session with setsid: the kernel is their subreaper) and every
    process in its session."""
    pid = kernel_pid(km)
    procs = process_tree(pid)
    procs.update(session_members(pid))
    return procs


def zombies(procs):
    return [p for p in procs if (_stat(p) or (0, 0, ""))[2] == "Z"]


def wait_no_zombies(km, timeout=3.0):
    """Zombies among the kernel's descendants that are not reaped within
    TIMEOUT (the kernel reaps on SIGCHLD, so give it a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        z = zombies(kernel_family(km))
        if not z or time.monotonic() > deadline:
            return z
        time.sleep(0.02)
