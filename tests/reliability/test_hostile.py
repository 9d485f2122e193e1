"""Issue 4, item 5: hostile but legal cells leave the kernel serving: a
cell that closes fd 1 and 2, forks children, leaves threads running, blocks
SIGINT, or writes over the runtime's data."""
import time

import pytest

from conftest import (
    assert_state, interrupt_by_signal, kernel_family, run, run_ok, setup_state, shell_reply,
    iopub_until_idle, wait_no_zombies, wait_stream,
)


def interrupt_a_busy_cell(km, kc):
    """Start an endless loop, interrupt it: it ends in error within a second."""
    msg_id = kc.execute('printf("running\\n"); fflush(stdout);\nfor (;;) {}')
    wait_stream(kc, msg_id, "running")
    t0 = time.monotonic()
    interrupt_by_signal(km)
    assert shell_reply(kc, msg_id, timeout=10)["content"]["status"] == "error"
    assert time.monotonic() - t0 < 1.0
    iopub_until_idle(kc, msg_id)


def serving(kc, tries=3):
    """The kernel still runs cells: a fresh definition, and its value as
    the cell's result (which does not depend on the cell's stdout)."""
    for _ in range(tries):
        reply, _ = run(kc, "int serving_probe = 6 * 7;", timeout=15)
        if reply["status"] == "ok":
            break
    reply, msgs = run(kc, "serving_probe", timeout=15)
    assert reply["status"] == "ok", reply
    results = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
    assert results and "42" in results[0], results


def test_closing_stdout_and_stderr(fresh_kernel):
    km, kc = fresh_kernel
    setup_state(kc)
    reply, _ = run(kc, 'close(1); close(2);\nprintf("into the void\\n"); fflush(stdout);\n'
                       'fprintf(stderr, "nothing\\n");', timeout=15)
    assert reply["status"] in ("ok", "error")
    serving(kc)
    # Printing works again in later cells: the closed descriptors belong to
    # the cell, not to the session (else every later printf is lost).
    assert run_ok(kc, 'printf("back\\n");', timeout=15) == "back\n", "stdout stays closed for later cells"
    assert_state(kc)


def test_closing_stdout_then_crashing(fresh_kernel):
    km, kc = fresh_kernel
    setup_state(kc)
    reply, _ = run(kc, 'close(1); close(2);\n*(volatile int *)0 = 1;', timeout=15)
    assert reply["status"] == "error"
    assert_state(kc)


def test_forked_children_that_exit(fresh_kernel):
    km, kc = fresh_kernel
    setup_state(kc)
    out = run_ok(kc, '#include <sys/wait.h>\n'
                     'for (int i = 0; i < 5; i++) if (fork() == 0) _exit(0);\n'
                     'for (int i = 0; i < 5; i++) if (fork() == 0) { usleep(100000); exit(0); }\n'
                     'printf("parent\\n");', timeout=15)
    assert "parent" in out
    # (Children the cell never waits for stay zombies of the worker until it
    # ends, as in any long-running C program; test_processes checks that
    # none survive shutdown or restart.)
    serving(kc)
    assert_state(kc)


def test_fork_then_the_cell_exits(fresh_kernel):
    """The cell forks a child that lives on, then the cell's process exits:
    a cell error, the state kept, the child not left a zombie."""
    km, kc = fresh_kernel
    setup_state(kc)
    reply, _ = run(kc, 'if (fork() == 0) { sleep(1); _exit(0); }\ng_state = 99;\nexit(0);', timeout=15)
    assert reply["status"] == "error"
    assert_state(kc)
    assert not wait_no_zombies(km, timeout=4), "zombie left behind"


def test_thread_that_keeps_running(fresh_kernel):
    km, kc = fresh_kernel
    setup_state(kc)
    run_ok(kc, '#include <pthread.h>\n'
               'volatile long spins;\n'
               'void *spinner(void *a) { for (;;) { spins++; usleep(1000); } return a; }\n'
               'pthread_t t; pthread_create(&t, 0, spinner, 0);', timeout=15)
    # the thread runs on into later cells, which still work
    out = run_ok(kc, 'long a = spins; usleep(50000); printf("%d\\n", spins > a);', timeout=15)
    assert out == "1\n"
    assert_state(kc)
    # a crash with the thread running: the state (without the crash) kept
    reply, _ = run(kc, "g_state = 99;\n*(volatile int *)0 = 1;", timeout=15)
    assert reply["status"] == "error"
    assert_state(kc)
    # an interrupt with the thread running
    interrupt_a_busy_cell(km, kc)
    serving(kc)


def test_blocking_sigint_for_the_session(fresh_kernel):
    """Block every signal for good (the worker keeps the mask): crashes are
    still explained and interrupts still work."""
    km, kc = fresh_kernel
    setup_state(kc)
    run_ok(kc, 'sigset_t all; sigfillset(&all); sigprocmask(SIG_BLOCK, &all, 0);\n'
               'signal(SIGINT, SIG_IGN); signal(SIGTERM, SIG_IGN);')
    interrupt_a_busy_cell(km, kc)
    reply, _ = run(kc, "g_state = 99;\n*(volatile int *)0 = 1;", timeout=15)
    assert reply["status"] == "error"
    assert_state(kc)


def test_ignoring_the_alarm_does_not_defeat_timeout(fresh_kernel):
    km, kc = fresh_kernel
    t0 = time.monotonic()
    reply, _ = run(kc, '%timeout 0.5\nsignal(SIGALRM, SIG_IGN);\nsigset_t s; sigemptyset(&s); '
                       'sigaddset(&s, SIGALRM); sigprocmask(SIG_BLOCK, &s, 0);\nfor (;;) {}', timeout=15)
    assert reply["status"] == "error"
    assert time.monotonic() - t0 < 5, "the timeout did not stop the cell"


@pytest.mark.parametrize("what", [
    # libc's data the runtime relies on
    'stdout = fopen("/dev/null", "w"); stderr = stdout;',
    # the worker's event pipe to the kernel: garbage, then a huge length
    'write(4, "\\xff\\xff\\xff\\x7f garbage", 12);',
    'write(4, "\\x05\\x00\\x00\\x00{bad}", 9); write(4, "\\x02\\x00\\x00\\x00[]", 6);',
    # a frame that looks right but never ends (ipc.h: frames start with ff fe 'c' 'k')
    'write(4, "\\xff\\xfeck\\x00\\x10\\x00\\x00{\\"ev\\":", 14);',
    'write(4, "\\xff\\xfeck\\x0f\\x00\\x00\\x00{\\"ev\\":\\"done\\"}", 23);',
    # the request pipe from the kernel, closed
    'close(3);',
    # every global of the worker executable (runtime, session, libtcc)
    'extern char __data_start, _end;\nmemset(&__data_start, 0xA5, &_end - &__data_start);',
])
def test_writing_over_the_runtime(fresh_kernel, what):
    km, kc = fresh_kernel
    setup_state(kc)
    t0 = time.monotonic()
    reply, _ = run(kc, what, timeout=20)
    assert time.monotonic() - t0 < 15
    serving(kc)
