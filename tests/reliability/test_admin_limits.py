"""Issue 19: ceilings an administrator sets once for every kernel, in the
kernelspec's "env" (CKERNEL_MAX_*): memory, CPU seconds, processes, output.
A student's magics may lower them, never raise them.

Each test starts the kernel from a kernelspec of its own, as Jupyter does:
build/share/jupyter's kernel.json with an "env" added. Process limits do
not bind root (Linux exempts it), so as root that test runs the kernel as
the user nobody, through setpriv in the kernelspec's argv.
"""
import json
import os
import pwd
import shutil
import tempfile
import time

import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from conftest import JUPYTER_DIR, error_text, errors, run, run_ok, stop_kernel

LIMITS = {
    "CKERNEL_MAX_MEMORY_MIB": "256",
    "CKERNEL_MAX_CPU_SECONDS": "2",
    "CKERNEL_MAX_PROCESSES": "40",
    "CKERNEL_MAX_OUTPUT_MIB": "1",
}


def make_spec(tmp_path, env, as_user=None):
    """A kernelspec named c-limits in TMP_PATH/kernels; AS_USER: run the
    kernel as that user (the connection file is handed over to it)."""
    spec = json.load(open(os.path.join(JUPYTER_DIR, "kernels", "c", "kernel.json")))
    spec["env"] = env
    if as_user:
        spec["argv"] = ["/bin/sh", "-c",
                        'chown "$0" "$1" && exec setpriv --reuid="$0" --regid="$3" --clear-groups '
                        '"$2" -f "$1"',
                        str(as_user.pw_uid), "{connection_file}", spec["argv"][0], str(as_user.pw_gid)]
        spec["env"] = dict(env, HOME="/tmp")
    d = tmp_path / "kernels" / "c-limits"
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps(spec))
    return str(tmp_path / "kernels")


def start(tmp_path, env=LIMITS, as_user=None):
    kernels = make_spec(tmp_path, env, as_user)
    km = KernelManager(kernel_name="c-limits", kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
    if as_user:                      # a connection file the user can reach
        run_dir = tempfile.mkdtemp(prefix="ckernel-limits-")
        os.chmod(run_dir, 0o755)
        km.connection_file = os.path.join(run_dir, "kernel.json")
    km.shutdown_wait_time = 3
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=30)
    return km, kc


@pytest.fixture
def limited(tmp_path):
    km, kc = start(tmp_path)
    yield km, kc
    stop_kernel(km, kc)


def limit_error(kc, code):
    reply, msgs = run(kc, code, timeout=30)
    assert reply["status"] == "error", f"{code!r} was accepted"
    assert reply["ename"] == "LimitError", reply
    return error_text(errors(msgs)[0])


def test_magics_may_lower_the_ceilings_and_never_raise_them(limited):
    km, kc = limited
    for magic, var in [("%memory", "MEMORY_MIB"), ("%cpu", "CPU_SECONDS"),
                       ("%processes", "PROCESSES"), ("%output", "OUTPUT_MIB")]:
        ceiling = LIMITS["CKERNEL_MAX_" + var]
        text = limit_error(kc, f"{magic} {int(ceiling) * 2}")
        assert f"at most {ceiling}" in text and "CKERNEL_MAX_" + var in text, text
        limit_error(kc, f"{magic} 0")                    # 0 means no limit: also a raise
        run_ok(kc, f"{magic} {ceiling}")                 # the ceiling itself is fine
    run_ok(kc, "%memory 64\n%cpu 1\n%processes 5\n%output 1")
    assert run_ok(kc, 'printf("still here\\n");') == "still here\n"


def test_memory_ceiling_ends_a_malloc_loop(limited):
    km, kc = limited
    t0 = time.monotonic()
    reply, msgs = run(kc, "#include <stdlib.h>\n#include <string.h>\n"
                          "for (int i = 0; i < 100000; i++) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); }",
                      timeout=60)
    assert reply["status"] == "error", reply
    assert "256 MiB" in error_text(errors(msgs)[0])
    assert time.monotonic() - t0 < 20
    # a cell cannot lift the hard limit itself either
    out = run_ok(kc, "#include <sys/resource.h>\nstruct rlimit rl; getrlimit(RLIMIT_AS, &rl);\n"
                     "rl.rlim_max = RLIM_INFINITY;\nprintf(\"%d\\n\", setrlimit(RLIMIT_AS, &rl));")
    assert out == "-1\n"


def test_cpu_ceiling_ends_a_busy_cell(limited):
    km, kc = limited
    t0 = time.monotonic()
    reply, msgs = run(kc, "volatile unsigned long n = 0;\nfor (unsigned long i = 0; i < 1ul << 40; i++) n++;",
                      timeout=60)
    took = time.monotonic() - t0
    assert reply["status"] == "error" and reply["ename"] == "CPUTimeError", reply
    assert "2 s of CPU time" in error_text(errors(msgs)[0])
    assert took < 20, f"took {took:.1f} s"
    # a student may lower it
    reply, _ = run(kc, "%cpu 1\nvolatile unsigned long m = 0;\nfor (unsigned long i = 0; i < 1ul << 40; i++) m++;",
                   timeout=60)
    assert reply["ename"] == "CPUTimeError"
    # a sleeping cell uses no CPU: the limit does not stop it
    assert run_ok(kc, '#include <unistd.h>\nusleep(1500000);\nprintf("slept\\n");') == "slept\n"


def test_cpu_ceiling_holds_when_a_cell_lifts_its_own_limit(limited):
    """A cell may raise its soft RLIMIT_CPU and ignore SIGXCPU: the kernel,
    which the cell cannot touch, watches the CPU time and stops it."""
    km, kc = limited
    t0 = time.monotonic()
    reply, msgs = run(kc, "#include <sys/resource.h>\n#include <signal.h>\n"
                          "struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY }; setrlimit(RLIMIT_CPU, &rl);\n"
                          "signal(SIGXCPU, SIG_IGN);\n"
                          "volatile unsigned long k = 0;\nfor (unsigned long i = 0; i < 1ul << 40; i++) k++;",
                      timeout=60)
    assert reply["status"] == "error" and reply["ename"] == "CPUTimeError", reply
    assert "lifted its own" in error_text(errors(msgs)[0])
    assert time.monotonic() - t0 < 20
    assert run_ok(kc, 'printf("after\\n");') == "after\n"


def test_output_ceiling_cuts_earlier(limited):
    km, kc = limited
    reply, msgs = run(kc, '#include <stdio.h>\nfor (int i = 0; i < 40000; i++) printf("%0100d\\n", i);',
                      timeout=60)
    text = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
    assert len(text) < 2 << 20, len(text)
    assert "is cut here" in text


def test_process_ceiling_ends_a_fork_bomb(tmp_path):
    as_user = pwd.getpwnam("nobody") if os.getuid() == 0 else None
    if as_user and not shutil.which("setpriv"):
        pytest.skip("no setpriv to run the kernel as a user the limit binds")
    km, kc = start(tmp_path, as_user=as_user)
    try:
        if as_user:
            assert run_ok(kc, '#include <unistd.h>\nprintf("%d\\n", getuid());') == \
                f"{as_user.pw_uid}\n"
        t0 = time.monotonic()
        # bounded: 2^12 processes at most, if nothing stopped it
        reply, msgs = run(kc, "#include <unistd.h>\nfor (int i = 0; i < 12; i++) fork();\nsleep(5);",
                          timeout=60)
        assert reply["status"] == "error" and reply["ename"] == "ProcessLimitError", reply
        assert "processes" in error_text(errors(msgs)[0])
        assert time.monotonic() - t0 < 10
        assert run_ok(kc, 'printf("after the bomb\\n");') == "after the bomb\n"
        run_ok(kc, "%processes 2")
        reply, _ = run(kc, "for (int i = 0; i < 4; i++) if (fork() == 0) { sleep(3); _exit(0); }", timeout=30)
        assert reply["ename"] == "ProcessLimitError", reply
        # the bomb in a child: the cell's own process never fails a fork, a
        # child does, and the cell still ends (on a busy machine the cell's
        # forks of a bomb are often all done before its children hit the limit)
        run_ok(kc, "%processes 6")
        t0 = time.monotonic()
        reply, _ = run(kc, "if (fork() == 0) { for (int i = 0; i < 8; i++) fork(); sleep(5); _exit(0); }\n"
                           "sleep(5);", timeout=30)
        assert reply.get("ename") == "ProcessLimitError", reply
        assert time.monotonic() - t0 < 4.5, "the cell ran its sleep out: the child's failure was not seen"
    finally:
        stop_kernel(km, kc)
        if as_user:
            shutil.rmtree(os.path.dirname(km.connection_file), ignore_errors=True)
