"""Issue 4, item 4: per-cell limits, settable by magic, with clear
messages: wall time (%timeout), memory (%memory), output size."""
import time

import pytest

from conftest import (
    assert_state, collect, error_text, errors, kernel_pid, run, run_ok, setup_state, shell_reply,
)


def test_timeout_stops_an_endless_loop(fresh_kernel):
    km, kc = fresh_kernel
    setup_state(kc)
    t0 = time.monotonic()
    reply, msgs = run(kc, "%timeout 0.5\ng_state = 99;\nfor (;;) {}", timeout=10)
    took = time.monotonic() - t0
    assert reply["status"] == "error"
    assert reply["ename"] == "TimeoutError", reply
    assert "0.5" in error_text(errors(msgs)[0])
    assert 0.4 < took < 2.5, f"stopped after {took:.2f} s"
    assert_state(kc)
    # the limit stays for later cells, and %timeout 0 lifts it
    reply, _ = run(kc, "for (;;) {}", timeout=10)
    assert reply["ename"] == "TimeoutError"
    run_ok(kc, "%timeout 0")
    assert run_ok(kc, 'usleep(700000); printf("done\\n");') == "done\n"


def test_cell_under_the_timeout_is_not_stopped(fresh_kernel):
    km, kc = fresh_kernel
    assert run_ok(kc, '%timeout 2\n#include <unistd.h>\nusleep(300000);\nprintf("ok\\n");') == "ok\n"


def test_memory_limit_turns_a_runaway_malloc_loop_into_an_error(fresh_kernel):
    km, kc = fresh_kernel
    setup_state(kc)
    run_ok(kc, "%memory 256")
    t0 = time.monotonic()
    reply, msgs = run(
        kc,
        "g_state = 99;\n"
        "for (;;) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); }",
        timeout=30)
    took = time.monotonic() - t0
    assert reply["status"] == "error", reply
    assert took < 10, f"took {took:.1f} s: was it swapping?"
    assert_state(kc)
    # a cell that checks malloc's result sees NULL well before 256 MiB more
    out = run_ok(kc, 'size_t got = 0;\n'
                     'while (got < (1ul << 30) && malloc(1 << 20)) got += 1 << 20;\n'
                     'printf("%d\\n", got < (256ul << 20));')
    assert out == "1\n"


def test_output_flood_is_cut_and_kernel_stays_responsive(fresh_kernel):
    """A cell printing 100 MB: the output reaching the frontend is cut with
    a note, sent in batches, and the kernel answers while and after."""
    km, kc = fresh_kernel
    code = ('char line[1025]; memset(line, \'x\', 1023); line[1023] = \'\\n\'; line[1024] = 0;\n'
            'for (int i = 0; i < 100 * 1024; i++) fputs(line, stdout);\n'
            'printf("end of flood\\n");')
    t0 = time.monotonic()
    msg_id = kc.execute("#include <string.h>\n#include <stdio.h>\n" + code)
    # while it prints: the heartbeat and the control channel answer
    hb_ok = kc.hb_channel.is_beating()
    ctl = kc.session.msg("kernel_info_request", {})
    kc.control_channel.send(ctl)
    ctl_t0 = time.monotonic()
    ctl_reply = kc.get_control_msg(timeout=5)
    ctl_took = time.monotonic() - ctl_t0
    reply = shell_reply(kc, msg_id, timeout=60)
    took = time.monotonic() - t0
    text, n_stream = 0, 0
    tail = {"stdout": "", "stderr": ""}        # the note comes on stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            n_stream += 1
            t = msg["content"]["text"]
            text += len(t)
            name = msg["content"]["name"]
            tail[name] = (tail[name] + t)[-2000:]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert hb_ok and ctl_reply["msg_type"] == "kernel_info_reply"
    assert ctl_took < 1.0, f"control channel answered after {ctl_took:.1f} s"
    assert text < 20 * 2**20, f"{text / 2**20:.0f} MiB of output reached the frontend: not cut"
    assert n_stream < 5000, f"{n_stream} stream messages: not batched"
    assert "is cut here" in tail["stderr"], (
        f"no note on stderr that the output was cut; {text} characters in {n_stream} messages; "
        f"the end of stderr: {tail['stderr'][-300:]!r}, of stdout: {tail['stdout'][-300:]!r}")
    assert took < 30, f"the cell took {took:.1f} s"
    assert run_ok(kc, 'printf("still here\\n");', timeout=5) == "still here\n"
