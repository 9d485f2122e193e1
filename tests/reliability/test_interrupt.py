"""Issue 4, item 3: the frontend's interrupt (SIGINT to the kernel, as
kernel.json's interrupt_mode "signal" has a notebook server do, and
interrupt_request on the control channel) stops an endless loop, a blocking
read or a sleep within 1 second with a KeyboardInterrupt-style error; the
session is as before the cell; an interrupt while idle is harmless."""
import time

import pytest

from conftest import (
    assert_state, collect, control_reply, flush, errors, interrupt_by_message, interrupt_by_signal,
    iopub_until_idle, run, run_ok, shell_reply, wait_stream,
)

BOUND = 1.0   # seconds from interrupt to the execute_reply


@pytest.fixture(autouse=True)
def no_cell_left_running(state_kernel):
    """If a test failed with its cell still running, stop that cell so the
    next test starts on an idle kernel (instead of failing in turn)."""
    yield
    km, kc = state_kernel
    try:
        run(kc, "1;", timeout=3)
    except TimeoutError:
        interrupt_by_signal(km)
        time.sleep(0.5)
        flush(kc)

BLOCKERS = {
    "endless-loop": "for (;;) {}",
    "blocking-read": "int fds[2]; pipe(fds); char c; read(fds[0], &c, 1);",
    "sleep": "sleep(1000);",
    "sigint-blocked": "sigset_t all; sigfillset(&all); sigprocmask(SIG_BLOCK, &all, 0);\nfor (;;) {}",
}


def start_blocking(kc, body):
    """Execute a cell that prints a marker, changes g_state, then blocks;
    return its msg_id once the marker arrived (the cell is running)."""
    msg_id = kc.execute('printf("running\\n"); fflush(stdout);\ng_state = 99;\n' + body)
    wait_stream(kc, msg_id, "running")
    return msg_id


def interrupt(km, kc, how):
    if how == "signal":
        interrupt_by_signal(km)
        return None
    return interrupt_by_message(kc)


def assert_interrupted(kc, msg_id, t0, ctl_id=None):
    reply = shell_reply(kc, msg_id, timeout=10)
    took = time.monotonic() - t0
    content = reply["content"]
    assert content["status"] == "error", content
    assert "Interrupt" in content["ename"], content
    assert took < BOUND, f"the interrupt took {took:.2f} s"
    msgs = iopub_until_idle(kc, msg_id, timeout=5)
    errs = errors(msgs)
    assert errs and "Interrupt" in errs[0]["ename"], errs
    if ctl_id:
        assert control_reply(kc, ctl_id, timeout=5)["content"]["status"] == "ok"


@pytest.mark.parametrize("how", ["signal", "message"])
@pytest.mark.parametrize("what", list(BLOCKERS))
def test_interrupt_stops_the_cell_within_a_second(state_kernel, what, how):
    km, kc = state_kernel
    msg_id = start_blocking(kc, BLOCKERS[what])
    t0 = time.monotonic()
    ctl = interrupt(km, kc, how)
    assert_interrupted(kc, msg_id, t0, ctl)
    assert_state(kc)


def test_interrupt_twice_in_a_row(state_kernel):
    km, kc = state_kernel
    for how in ("signal", "message"):
        msg_id = start_blocking(kc, "for (;;) {}")
        t0 = time.monotonic()
        ctl = interrupt(km, kc, how)
        assert_interrupted(kc, msg_id, t0, ctl)
    assert_state(kc)


def test_two_interrupts_for_one_cell(state_kernel):
    """A second interrupt that arrives while the first is being handled does
    no harm, and does not leak into the next cell."""
    km, kc = state_kernel
    msg_id = start_blocking(kc, "sleep(1000);")
    t0 = time.monotonic()
    interrupt_by_signal(km)
    interrupt_by_signal(km)
    assert_interrupted(kc, msg_id, t0)
    assert_state(kc)


def test_interrupt_right_after_execute(state_kernel):
    """An interrupt that comes as soon as the kernel took the request (status
    busy), maybe before the cell started in the worker, still stops it: the
    kernel must not lose it. (Before busy the kernel has not read the
    request yet; an interrupt then is an idle one, as in any kernel.)"""
    km, kc = state_kernel
    msg_id = kc.execute("g_state = 99;\nfor (;;) {}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=10)
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "busy"):
            break
    t0 = time.monotonic()
    interrupt_by_signal(km)
    reply = shell_reply(kc, msg_id, timeout=10)
    took = time.monotonic() - t0
    assert reply["content"]["status"] == "error"
    assert took < BOUND + 0.5, f"took {took:.2f} s"
    iopub_until_idle(kc, msg_id, timeout=5)
    assert_state(kc)


@pytest.mark.parametrize("how", ["signal", "message"])
def test_interrupt_while_idle_is_harmless(state_kernel, how):
    km, kc = state_kernel
    for _ in range(3):
        ctl = interrupt(km, kc, how)
        if ctl:
            assert control_reply(kc, ctl, timeout=5)["content"]["status"] == "ok"
    # nothing pending: the next cells run normally, and are not interrupted
    assert run_ok(kc, 'usleep(200000); printf("slept\\n");') == "slept\n"
    assert km.is_alive()
    assert_state(kc)


def test_interrupted_output_is_kept_and_next_cell_prints(state_kernel):
    km, kc = state_kernel
    msg_id = start_blocking(kc, "for (;;) {}")
    interrupt_by_signal(km)
    reply, msgs = collect(kc, msg_id, timeout=10)
    assert reply["status"] == "error"
    assert run_ok(kc, 'printf("after\\n");') == "after\n"
