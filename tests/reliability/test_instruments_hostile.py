"""The instruments (%%profile, the leak scan, %%check, %%cc) against
hostile or careless cells: each test is a way one of them broke, and
checks the kernel still serves and earlier definitions survive."""
import time

from conftest import (
    assert_state, describe, interrupt_by_signal, iopub_until_idle, kernel_family, measure_lines, run,
    setup_state, shell_reply, stdout_text,
)

SPIN = "void spin_cpu(long n) { for (volatile long i = 0; i < n; i++) {} }"
# Some 0.1-0.3 s of CPU: hundreds of samples at the default 1000 Hz.
PROFILED = "%%profile\nspin_cpu(150000000);"


def execute(kc, code, timeout=60):
    """(reply message, iopub messages) of CODE."""
    msg_id = kc.execute(code)
    reply = shell_reply(kc, msg_id, timeout=timeout)
    return reply, iopub_until_idle(kc, msg_id, timeout=timeout)


def profile_of(kc, code):
    reply, msgs = execute(kc, code)
    assert reply["content"]["status"] == "ok", reply["content"]
    texts = [m["content"]["data"].get("text/plain", "") for m in msgs if m["msg_type"] == "display_data"]
    return reply["metadata"]["ckernel"]["profile"], "\n".join(texts)


def test_a_cell_that_blocks_or_takes_the_samples_signal_loses_its_samples_and_says_so(fresh_kernel):
    """A cell's signal mask and handlers are the session's: blocking
    SIGPROF once left every later profile empty, explained as "less CPU
    time than one sampling period". The samples' signal is SIGTRAP where
    the kernel has perf's sigtrap, SIGPROF otherwise (the profile says)."""
    km, kc = fresh_kernel
    setup_state(kc)
    execute(kc, SPIN)
    prof, _ = profile_of(kc, PROFILED)
    sig = prof["signal"]
    assert sig in ("SIGTRAP", "SIGPROF"), prof
    reply, _ = execute(kc, "sigset_t prof_set; sigemptyset(&prof_set);\n"
                           f"sigaddset(&prof_set, {sig});\nsigprocmask(SIG_BLOCK, &prof_set, 0);")
    assert reply["content"]["status"] == "ok"
    prof, _ = profile_of(kc, PROFILED)
    assert prof["samples"] > 10 and prof["signal_lost"] is None, prof
    prof, text = profile_of(kc, "%%profile\nsigprocmask(SIG_BLOCK, &prof_set, 0);\nspin_cpu(150000000);")
    assert prof["signal_lost"] == "blocked", prof
    assert f"the cell blocked {sig}" in text and "less CPU time" not in text, text
    prof, text = profile_of(kc, "%%profile\nvoid own_prof(int s) { (void)s; }\n"
                                f"signal({sig}, own_prof);\nspin_cpu(150000000);")
    assert prof["signal_lost"] == "handler", prof
    assert f"its own {sig} handler" in text, text
    prof, _ = profile_of(kc, PROFILED)
    assert prof["samples"] > 10 and prof["signal_lost"] is None, prof
    assert_state(kc)


def test_a_trap_in_a_profiled_cell_is_still_a_crash_report(fresh_kernel):
    """Where the samples come as perf's SIGTRAP, the cell's own SIGTRAP
    must still reach the crash report, in a profiled cell and after one."""
    km, kc = fresh_kernel
    setup_state(kc)
    execute(kc, SPIN)
    for code in ("%%profile\nspin_cpu(50000000);\nraise(SIGTRAP);", "raise(SIGTRAP);"):
        reply, _ = execute(kc, code)
        content = reply["content"]
        assert content["status"] == "error" and content["ename"] == "Crash", content
        assert "SIGTRAP), raised by the program" in content["evalue"], content
        prof, _ = profile_of(kc, PROFILED)
        assert prof["samples"] > 10, prof
    assert_state(kc)


def leak_line(msgs):
    lines = measure_lines(msgs)
    assert lines, [m["msg_type"] for m in msgs]
    return lines[0]["content"]["data"]["text/plain"]


def test_a_thread_that_blocks_the_stop_signal_is_named_not_waited_for(fresh_kernel):
    """Such a thread never answers: each later cell waited 2 s for it."""
    km, kc = fresh_kernel
    setup_state(kc)
    reply, msgs = execute(kc, "%lib pthread\n#include <pthread.h>\nvolatile int deaf_ready;\n"
                              "void *deaf(void *arg) {\n"
                              "    sigset_t all; sigfillset(&all); pthread_sigmask(SIG_BLOCK, &all, 0);\n"
                              "    deaf_ready = 1;\n    for (;;) pause();\n}\n"
                              "pthread_t deaf_thread; pthread_create(&deaf_thread, 0, deaf, 0);\n"
                              "while (!deaf_ready) usleep(100);")
    assert reply["content"]["status"] == "ok", reply["content"]
    for _ in range(2):
        reply, msgs = execute(kc, "malloc(9);")
        text = leak_line(msgs)
        assert "leaks not checked (a thread did not stop: it blocks the signal that stops it)" in text, text
    assert_state(kc)


def test_a_leak_list_cut_at_its_first_blocks_says_how_many_there_are(fresh_kernel):
    """200,000 lost blocks were listed as "leaked 100 x 16 B"."""
    km, kc = fresh_kernel
    setup_state(kc)
    reply, _ = execute(kc, "void **many = malloc(200000 * sizeof(void *));\n"
                           "for (int i = 0; i < 200000; i++) many[i] = malloc(16);")
    assert reply["content"]["status"] == "ok"
    reply, msgs = execute(kc, "for (int i = 0; i < 200000; i++) many[i] = 0;")
    leaked = reply["metadata"]["ckernel"]["measure"]["leaked_blocks"]
    assert leaked > 190000, leaked
    text = leak_line(msgs)
    assert f"(the list is of the first 100 of the {leaked} blocks leaked)" in text, text
    # a cycle of 100,000 nodes nothing reaches: all leaked, nothing else lost
    reply, msgs = execute(kc, "struct cyc { struct cyc *next; } *cyc_head = malloc(sizeof *cyc_head), *cyc_at;\n"
                              "cyc_at = cyc_head;\n"
                              "for (int i = 1; i < 100000; i++) { cyc_at->next = malloc(sizeof *cyc_at); "
                              "cyc_at = cyc_at->next; }\n"
                              "cyc_at->next = cyc_head; cyc_head = cyc_at = 0;")
    assert reply["metadata"]["ckernel"]["measure"]["leaked_blocks"] == 100000, leak_line(msgs)
    assert_state(kc)


def compilers_of(km):
    return {p: s for p, s in kernel_family(km).items()
            if any(t in describe({p: s}) for t in ("cc1", "gcc -x c"))}


def test_interrupting_a_long_gcc_compile_stops_the_compiler(fresh_kernel):
    """The interrupted worker's gcc and cc1 ran on, orphaned, for as long
    as the compile took (and wrote their temporary files into /tmp)."""
    km, kc = fresh_kernel
    setup_state(kc)
    body = "\n".join(f"int gen_{i}(int x) {{ return x * {i} + gen_{max(i - 1, 0)}(x - 1); }}"
                     for i in range(1, 20000))
    msg_id = kc.execute("%%cc gcc -O2\nint gen_0(int x) { return x; }\n" + body)
    deadline = time.monotonic() + 60
    while not compilers_of(km):
        assert time.monotonic() < deadline, "gcc never started"
        time.sleep(0.02)
    interrupt_by_signal(km)
    reply = shell_reply(kc, msg_id, timeout=60)
    iopub_until_idle(kc, msg_id, timeout=30)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt", reply["content"]
    deadline = time.monotonic() + 30
    while compilers_of(km) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not compilers_of(km), describe(compilers_of(km))
    assert_state(kc)


def test_cc_flags_that_stop_the_compiler_early_say_so(fresh_kernel):
    """--version makes gcc exit 0 with no object: that was "the compiler
    failed (exit status 0)"; -v's banner ("Configured with: ...
    --enable-werror"...) was taken for an error."""
    km, kc = fresh_kernel
    setup_state(kc)
    reply, _ = run(kc, "%%cc gcc --version\nint cc_flag_probe = 1;", timeout=60)
    assert reply["status"] == "error" and reply["ename"] == "CompileError", reply
    assert "made no object file" in reply["evalue"] and "--version" in reply["evalue"], reply
    reply, msgs = run(kc, "%%cc gcc -v\nint cc_verbose = 3;\nprintf(\"%d\\n\", cc_verbose);", timeout=60)
    assert reply["status"] == "ok", reply
    assert stdout_text(msgs) == "3\n"
    assert_state(kc)


def rate(prof):
    """Samples per CPU second of a profile."""
    return prof["samples"] / (prof["cpu_ns"] / 1e9)


def test_nb_profile_start_left_open_or_called_twice_samples_nothing_after(fresh_kernel):
    """nb_profile_start twice made nb_profile_stop leave the sampling on,
    and a start without a stop left it on after the cell: every later
    profile was then sampled twice over (--hz 1 gave some 1000 a second)."""
    km, kc = fresh_kernel
    setup_state(kc)
    execute(kc, SPIN)
    reply, msgs = execute(kc, "nb_profile_start(); nb_profile_start();\nspin_cpu(50000000);\n"
                              "nb_profile both = nb_profile_stop();\n"
                              "printf(\"%d\\n\", both.samples > 0);")
    assert stdout_text(msgs) == "1\n", reply["content"]
    prof, _ = profile_of(kc, "%%profile --hz 100\nspin_cpu(300000000);")
    assert prof["samples"] > 5 and rate(prof) < 300, prof
    execute(kc, "nb_profile_start();\nspin_cpu(1000000);")
    prof, _ = profile_of(kc, "%%profile --hz 100\nspin_cpu(300000000);")
    assert prof["samples"] > 5 and rate(prof) < 300, prof
    # inside %%profile, a region still sums its own samples only
    prof, text = profile_of(kc, "%%profile --hz 100\nnb_profile_start();\nspin_cpu(300000000);\n"
                                "nb_profile inner = nb_profile_stop();\nspin_cpu(300000000);\n"
                                "printf(\"inner %d\\n\", inner.samples);")
    assert rate(prof) < 300, prof
    assert_state(kc)


def test_a_cell_that_takes_the_leak_scans_signal_does_not_lose_the_session(fresh_kernel):
    """With a thread running, signal(SIGRTMAX - 2, SIG_DFL) made the next
    scan end the worker ("Real-time signal 28"): a cell that did nothing
    wrong rolled back. A handler of the cell's own left threads unstopped."""
    km, kc = fresh_kernel
    setup_state(kc)
    reply, _ = execute(kc, "%lib pthread\n#include <pthread.h>\n"
                           "void *idle_thread(void *arg) { for (;;) pause(); }\n"
                           "pthread_t idle; pthread_create(&idle, 0, idle_thread, 0);")
    assert reply["content"]["status"] == "ok", reply["content"]
    for taken in ("SIG_DFL", "own_rt", "SIG_IGN"):
        code = f"signal(SIGRTMAX - 2, {taken});\nint *lost_{taken} = malloc(5); lost_{taken} = 0;"
        if taken == "own_rt":
            code = "void own_rt(int sig) { (void)sig; }\n" + code
        reply, msgs = execute(kc, code)
        assert reply["content"]["status"] == "ok", reply["content"]
        assert reply["metadata"]["ckernel"]["measure"]["leaked_blocks"] == 1, leak_line(msgs)
    assert_state(kc)


def test_cc_32_bit_code_is_refused_with_the_reason(fresh_kernel):
    """-m32 made an ELF32 object that the linker called "invalid object file"."""
    km, kc = fresh_kernel
    setup_state(kc)
    for flag in ("-m32", "-mx32"):
        reply, _ = run(kc, f"%%cc gcc {flag}\nint narrow(void) {{ return 5; }}", timeout=60)
        assert reply["status"] == "error" and reply["ename"] == "MagicError", reply
        assert "64-bit" in reply["evalue"], reply
    assert_state(kc)
