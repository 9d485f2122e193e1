"""Shared fixtures and helpers for the protocol tests.

The tests drive the real kernel binary (build/bin/ckernel) through
jupyter_client, the way a notebook server would, and sometimes through raw
ZeroMQ sockets where jupyter_client would hide what we want to check (bad
signatures, broken frames, the heartbeat).

Run with Debian's /usr/bin/python3 (see the Makefile): it sees
python3-jupyter-client, python3-jupyter-kernel-test and pyzmq.
"""
import os
import re
import time
from queue import Empty

import pytest

# The kernelspec built by `make` lives in <repo>/build/share/jupyter; make
# jupyter_client find it without installing anything. Done at import time so
# that jupyter_kernel_test's setUpClass (which calls start_new_kernel) sees it.
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JUPYTER_DIR = os.path.join(REPO, "build", "share", "jupyter")
os.environ["JUPYTER_PATH"] = JUPYTER_DIR + (
    os.pathsep + os.environ["JUPYTER_PATH"] if os.environ.get("JUPYTER_PATH") else ""
)
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from jupyter_client.manager import KernelManager  # noqa: E402

KERNEL_NAME = "c"
STARTUP_TIMEOUT = 15
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --------------------------------------------------------------------------
# Processes: the kernel and everything it started.
# --------------------------------------------------------------------------

def _stat(pid):
    """(ppid, session, state, starttime) of PID from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    # comm is in parentheses and may contain anything: split at the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    state, ppid, _pgrp, session = rest[0], int(rest[1]), int(rest[2]), int(rest[3])
    starttime = int(rest[19])
    return ppid, session, state, starttime


def _children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(p) for p in f.read().split())
        return kids
    except FileNotFoundError:
        pass  # no CONFIG_PROC_CHILDREN here: scan every process's parent
    except OSError:
        return kids
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st and st[0] == pid:
                kids.append(int(name))
    return kids


def process_tree(pid):
    """{pid: starttime} for PID and all its descendants, found recursively
    through /proc (children files, or parent pids where those are missing),
    plus every other process in PID's session (the kernel runs in a session
    of its own, so a worker that double-forked away is still found)."""
    found = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        st = _stat(p)
        if st is None or p in found:
            continue
        found[p] = st[3]
        todo.extend(_children(p))
    root = _stat(pid)
    if root is not None and root[1] == pid:  # pid leads its own session
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in found:
                st = _stat(int(name))
                if st and st[1] == pid:
                    found[int(name)] = st[3]
    return found


def alive(procs):
    """Those of PROCS ({pid: starttime}) still running: same start time (not
    a reused pid) and not a zombie."""
    left = {}
    for pid, start in procs.items():
        st = _stat(pid)
        if st is not None and st[3] == start and st[2] != "Z":
            left[pid] = st
    return left


def describe(procs):
    out = []
    for pid in procs:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        out.append(f"{pid} ({cmd})")
    return ", ".join(out)


def wait_gone(procs, timeout=5.0):
    """Wait up to TIMEOUT for all of PROCS to end; return those still alive."""
    deadline = time.monotonic() + timeout
    while True:
        left = alive(procs)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def kernel_pid(km):
    return km.provisioner.process.pid


# --------------------------------------------------------------------------
# Starting and stopping kernels.
# --------------------------------------------------------------------------

def start_kernel(cwd=None, tries=3):
    """A kernel (and its client), running in CWD if given.

    jupyter_client picks free ports by binding and closing them; on a busy
    machine another process can take one before the kernel binds it, and
    the kernel exits ("Address already in use"). Only a kernel that died
    before it answered is started again, on new ports, at most TRIES times:
    a kernel that cannot start at all still fails every time."""
    for attempt in range(tries):
        km = KernelManager(kernel_name=KERNEL_NAME)
        km.shutdown_wait_time = 3
        km.start_kernel(**({"cwd": cwd} if cwd else {}))
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
            return km, kc
        except RuntimeError as e:           # "Kernel died before replying to kernel_info"
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            if attempt == tries - 1:
                raise
            print(f"kernel start {attempt + 1} failed ({e}); again on new ports")
        except Exception:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            raise


def stop_kernel(km, kc):
    """Ask politely, then make sure: kill the process group and clean up."""
    try:
        if km.is_alive():
            kc.shutdown()
            deadline = time.monotonic() + 3
            while km.is_alive() and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.fixture
def kernel():
    """A freshly started kernel: (KernelManager, BlockingKernelClient)."""
    km, kc = start_kernel()
    yield km, kc
    stop_kernel(km, kc)


@pytest.fixture
def kc(kernel):
    return kernel[1]


@pytest.fixture(scope="module")
def shared_kernel():
    """One kernel for a whole module, for tests that leave no state behind
    that another test could trip over."""
    km, kc = start_kernel()
    yield km, kc
    stop_kernel(km, kc)


# --------------------------------------------------------------------------
# Talking to the kernel.
# --------------------------------------------------------------------------

def flush(kc):
    """Drop whatever is waiting on shell and iopub."""
    for get in (kc.get_shell_msg, kc.get_iopub_msg):
        while True:
            try:
                get(timeout=0.01)
            except Empty:
                break


def _reply(get, channel, msg_id, timeout):
    """The reply to MSG_ID read with GET; replies to other requests are dropped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {channel} reply to {msg_id} within {timeout} s")
        try:
            msg = get(timeout=left)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def shell_reply(kc, msg_id, timeout=10):
    """The shell reply to MSG_ID; replies to other requests are dropped."""
    return _reply(kc.get_shell_msg, "shell", msg_id, timeout)


def control_reply(kc, msg_id, timeout=10):
    return _reply(kc.get_control_msg, "control", msg_id, timeout)


def iopub_until_idle(kc, msg_id, timeout=10):
    """All iopub messages whose parent is MSG_ID, up to and including the
    status idle for it. Messages for other requests are dropped."""
    deadline = time.monotonic() + timeout
    msgs = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            types = [m["msg_type"] for m in msgs]
            raise TimeoutError(f"no idle for {msg_id} within {timeout} s; got {types}")
        try:
            msg = kc.get_iopub_msg(timeout=left)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        msgs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return msgs


def collect(kc, msg_id, timeout=10):
    """(reply content, iopub messages) for an execute_request already sent."""
    reply = shell_reply(kc, msg_id, timeout)
    msgs = iopub_until_idle(kc, msg_id, timeout)
    return reply["content"], msgs


def run(kc, code, timeout=10, **kw):
    """Execute CODE; return (reply content, list of iopub messages for that
    request up to its status idle). KW goes to kc.execute (silent,
    store_history, stop_on_error, ...)."""
    msg_id = kc.execute(code, **kw)
    return collect(kc, msg_id, timeout)


def is_measure_line(m):
    """The measurement line the kernel shows under every cell that ran."""
    return (m["msg_type"] == "display_data"
            and m["content"]["data"].get("text/plain", "").startswith("compile "))


def measure_lines(msgs):
    return [m for m in msgs if is_measure_line(m)]


def outputs(msgs):
    """The iopub messages that are not status, execute_input or the
    measurement line (tests of the measurement read it on purpose)."""
    return [m for m in msgs
            if m["msg_type"] not in ("status", "execute_input") and not is_measure_line(m)]


def stream_text(msgs, name="stdout"):
    return "".join(
        m["content"]["text"]
        for m in msgs
        if m["msg_type"] == "stream" and m["content"]["name"] == name
    )


def stdout_text(msgs):
    return stream_text(msgs, "stdout")


def stderr_text(msgs):
    return stream_text(msgs, "stderr")


def errors(msgs):
    """Contents of the error outputs among MSGS."""
    return [m["content"] for m in msgs if m["msg_type"] == "error"]


def error_text(content):
    """evalue and traceback of an error (output or reply) as one plain
    string, ANSI colours removed."""
    parts = [content.get("ename", ""), content.get("evalue", "")]
    parts.extend(content.get("traceback", []))
    return ANSI.sub("", "\n".join(parts))


def run_ok(kc, code, timeout=10, **kw):
    """Execute CODE, insist that it succeeded, return its stdout."""
    reply, msgs = run(kc, code, timeout, **kw)
    assert reply["status"] == "ok", (
        f"cell failed: {code!r}\nreply: {reply}\nerrors: {errors(msgs)}"
    )
    return stdout_text(msgs)
