#!/usr/bin/python3
"""bench/bench.py - ckernel against ipykernel and xeus-python, over the real wire.

One run drives every kernel with the same workloads through jupyter_client's
Session (signing, framing, JSON) on plain pyzmq sockets, the way a front end
talks to a kernel, plus a floor: bench/echo_floor.c, a kernel that does no
work, driven by the same client with the same number of messages, so that
every figure can be read as overhead above what the client itself costs.

It prints one table (each figure for each kernel, ckernel's ratio to the
best other kernel, the goals from issues 6 and 11 next to the figures) and writes
every figure, the raw samples and the machine to a JSON file under build/.

    make bench                       the full run (a few minutes)
    make bench-smoke                 few iterations; checks only that every
                                     measurement produced a number
    bench/bench.py --help            iteration counts, kernels, output file

Iteration counts come from flags, or from BENCH_<FLAG> environment
variables (BENCH_ROUNDTRIPS=100 make bench). Nothing here asserts a time:
the machines this runs on are shared and noisy.

Client sockets reconnect every 2 ms instead of ZeroMQ's default 100 ms, so
that "start" measures the kernel, not the client's reconnect timer; and
their receive queues are unbounded, so that no output is dropped while the
client is busy sending.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(REPO, "build")
os.environ["JUPYTER_PATH"] = os.path.join(BUILD, "share", "jupyter") + (
    os.pathsep + os.environ["JUPYTER_PATH"] if os.environ.get("JUPYTER_PATH") else "")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

import zmq  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

ECHO_FLOOR = os.path.join(BUILD, "bench", "echo_floor")
WAIT = 120.0          # seconds: longest any one workload may take

# --------------------------------------------------------------------------
# What each kernel runs. The C and Python sessions do the same thing.
# --------------------------------------------------------------------------

C_SETUP = ("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
           "#include <stdint.h>\n#include <time.h>\nint n = 0;\n")
PY_SETUP = "import sys, os, time, math, json\nn = 0\n"

WORK = {
    "c": {
        "setup": C_SETUP,
        "trivial": "n++;",
        "line": lambda i: f'printf("%d\\n", {i});',
        "output": lambda lines: (
            "%output 0\n"          # measure throughput, not the kernel's cut
            "char bench_line[101];\n"
            "memset(bench_line, 'x', 99); bench_line[99] = '\\n';\n"
            f"for (long i = 0; i < {lines}L; i++) fwrite(bench_line, 1, 100, stdout);\n"),
    },
    "python": {
        "setup": PY_SETUP,
        "trivial": "n += 1",
        "line": lambda i: f"print({i})",
        "output": lambda lines: (
            "_line = 'x' * 99 + '\\n'\n"
            f"for _i in range({lines}):\n    sys.stdout.write(_line)\n"),
    },
}


def c_compile_cell(lines, tag):
    """A cell of LINES lines of functions and globals, nothing to run."""
    out = []
    for i in range(lines // 5):
        call = f"f_{tag}_{i - 1}(y)" if i else "y"
        out += [f"int g_{tag}_{i} = {i};",
                f"int f_{tag}_{i}(int x) {{",
                f"    int y = x * {i % 7 + 2} + g_{tag}_{i};",
                f"    return (y ^ (y >> 3)) + ({call} & 1);",
                "}"]
    out += ["/* filler */"] * (lines - len(out))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# Processes: a kernel and everything it started, from /proc.
# --------------------------------------------------------------------------

def tree(pid):
    """PID and all its descendants that are alive."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def memory(pid):
    """(RSS, PSS) in bytes summed over PID's process tree; processes counted."""
    rss = pss = 0
    pids = tree(pid)
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    k, v = line.split(":", 1)
                    if k == "Rss":
                        rss += int(v.split()[0]) * 1024
                    elif k == "Pss":
                        pss += int(v.split()[0]) * 1024
        except (OSError, ValueError):
            pass
    return rss, pss, len(pids)


def own_cpu(pid, reaped=False):
    """CPU seconds (user + system) of process PID, all its threads, and if
    REAPED of the children it has reaped; 0 if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15 if reaped else 13]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_seconds(pid):
    """CPU seconds of PID's live process tree, with the children each has
    reaped (ckernel's killed snapshots, reaped by the kernel, count)."""
    return sum(own_cpu(p, reaped=True) for p in tree(pid))


def kill_tree(pids):
    for p in pids:
        try:
            os.kill(p, 9)
        except OSError:
            pass


# --------------------------------------------------------------------------
# A kernel under test: launched from its kernelspec, driven with Session.
# --------------------------------------------------------------------------

class Kernel:
    def __init__(self, spec, log):
        self.spec = spec              # kernelspec name, or "floor"
        km = KernelManager(kernel_name="python3" if spec == "floor" else spec)
        km.ip = "127.0.0.1"
        km.write_connection_file()
        self.km = km
        self.session = km.session
        self.session.username = "bench"
        if spec == "floor":
            self.cmd = [ECHO_FLOOR, "-f", km.connection_file]
            self.env = dict(os.environ)
        else:
            self.cmd = [arg.replace("{connection_file}", km.connection_file)
                        .replace("{resource_dir}", km.kernel_spec.resource_dir)
                        for arg in km.kernel_spec.argv]
            self.env = dict(os.environ, **(km.kernel_spec.env or {}))
        self.log = log
        ctx = zmq.Context.instance()
        cf = km.get_connection_info()

        def sock(kind, port):
            s = ctx.socket(kind)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RECONNECT_IVL, 2)
            s.setsockopt(zmq.RCVHWM, 0)
            s.setsockopt(zmq.SNDHWM, 0)
            if kind == zmq.SUB:
                s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(f"tcp://127.0.0.1:{cf[port]}")
            return s
        self.shell = sock(zmq.DEALER, "shell_port")
        self.control = sock(zmq.DEALER, "control_port")
        self.iopub = sock(zmq.SUB, "iopub_port")
        self.poller = zmq.Poller()
        for s in (self.shell, self.iopub, self.control):
            self.poller.register(s, zmq.POLLIN)
        self.proc = None

    def launch(self):
        """Start the process; returns seconds to its first kernel_info_reply."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log,
                                     start_new_session=True)
        mid = self.send("kernel_info_request", {})
        self.wait(lambda ch, m: ch == "shell" and m["parent_header"].get("msg_id") == mid,
                  timeout=60)
        return time.perf_counter() - t0

    def hook_iopub(self):
        """Wait until iopub delivers (SUB sockets miss what came before they
        connected), then drain."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.send("kernel_info_request", {})
            if self.recv(0.05)[0] == "iopub":
                break
        while self.recv(0.1)[0]:
            pass

    def send(self, msg_type, content, sock=None):
        return self.session.send(sock or self.shell, msg_type, content)["header"]["msg_id"]

    def execute(self, code):
        return self.send("execute_request", {
            "code": code, "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})

    def recv(self, timeout):
        """(channel, message) or (None, None) after TIMEOUT seconds."""
        events = dict(self.poller.poll(timeout * 1000))
        for name, s in (("shell", self.shell), ("iopub", self.iopub), ("control", self.control)):
            if s in events:
                _, msg = self.session.recv(s, mode=zmq.NOBLOCK)
                if msg is not None:
                    return name, msg
        return None, None

    def wait(self, done, timeout=WAIT):
        """Receive until DONE(channel, msg) is true; returns that message."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.spec}: no answer in {timeout:.0f} s")
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.spec}: exited with {self.proc.returncode}")
            ch, msg = self.recv(min(left, 1.0))
            if ch and done(ch, msg):
                return msg

    def shutdown(self):
        if self.proc is None:
            return
        pids = tree(self.proc.pid)
        try:
            self.send("shutdown_request", {"restart": False}, self.control)
            self.proc.wait(5)
        except Exception:
            pass
        kill_tree(pids + tree(self.proc.pid))
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for s in (self.shell, self.control, self.iopub):
            s.close()
        self.km.cleanup_connection_file()
        self.proc = None


# --------------------------------------------------------------------------
# Workloads. Each returns figures in a dict; times in seconds.
# --------------------------------------------------------------------------

class Cells:
    """Runs cells on K and collects what a front end would see."""

    def __init__(self, k):
        self.k = k

    def one(self, code):
        """Execute CODE; wait for its status idle and its execute_reply.
        Returns (seconds to idle, reply, stdout text)."""
        k = self.k
        t0 = time.perf_counter()
        mid = k.execute(code)
        st = {"idle": None, "reply": None, "out": []}

        def done(ch, m):
            if m["parent_header"].get("msg_id") != mid:
                return False
            t = m["msg_type"]
            if t == "status" and m["content"]["execution_state"] == "idle":
                st["idle"] = time.perf_counter()
            elif t == "execute_reply":
                st["reply"] = m
            elif t == "stream":
                st["out"].append(m["content"]["text"])
            elif t == "error":
                raise RuntimeError(f"{k.spec}: cell failed: {m['content'].get('evalue')}"
                                   f"\n{code[:200]}")
            return st["idle"] is not None and st["reply"] is not None
        k.wait(done)
        if st["reply"]["content"].get("status") != "ok":
            raise RuntimeError(f"{k.spec}: execute_reply {st['reply']['content']}")
        return st["idle"] - t0, st["reply"], "".join(st["out"])

    def run_all(self, codes, lockstep):
        """Time from the first request to the last line of output."""
        k = self.k
        lines = 0
        t0 = time.perf_counter()
        if lockstep:
            for c in codes:
                _, _, out = self.one(c)
                lines += out.count("\n")
            return time.perf_counter() - t0, lines
        mids = [k.execute(c) for c in codes]
        last, want = mids[-1], len(codes)
        ours = set(mids)
        st = {"idle": False, "lines": 0, "t": None}

        def done(ch, m):
            pid = m["parent_header"].get("msg_id")
            if pid not in ours:
                return False
            t = m["msg_type"]
            if t == "stream":
                st["lines"] += m["content"]["text"].count("\n")
                st["t"] = time.perf_counter()
            elif t == "error":
                raise RuntimeError(f"{k.spec}: cell failed: {m['content'].get('evalue')}")
            elif t == "status" and pid == last and m["content"]["execution_state"] == "idle":
                st["idle"] = True
            return st["idle"] and st["lines"] >= want
        k.wait(done)
        while k.recv(0.05)[0]:       # the replies still queued
            pass
        return st["t"] - t0, st["lines"]


def timing_of(reply):
    """The kernel's own per-cell timers, {name: seconds}, or None."""
    t = (reply["metadata"].get("ckernel") or {}).get("timing")
    if not isinstance(t, dict):
        return None
    return {key[:-3] if key.endswith("_ns") else key: v / 1e9 if key.endswith("_ns") else v
            for key, v in t.items() if isinstance(v, (int, float))}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def bench_kernel(name, spec, lang, a, log):
    """Every workload against one kernel. Returns (figures, raw samples)."""
    fig, raw, errors = {}, {}, []

    def attempt(what, fn):
        try:
            fn()
        except Exception as e:          # one failed workload must not hide the rest
            errors.append(f"{what}: {e}")
            print(f"  {name}: {what} FAILED: {e}", file=sys.stderr)

    # start: launch to first kernel_info_reply, each in a fresh process
    def starts():
        xs = []
        for _ in range(a.starts):
            k = Kernel(spec, log)
            try:
                xs.append(k.launch())
            finally:
                k.shutdown()
        raw["start"] = xs
        fig["start"] = statistics.median(xs)
    attempt("start", starts)

    k = Kernel(spec, log)
    try:
        k.launch()
        k.hook_iopub()
        cells = Cells(k)
        w = WORK[lang]
        n_cells = 0
        if spec == "floor":
            w = dict(w, setup="setup", trivial="n += 1", line=lambda i: f"print({i})")

        def setup():
            cells.one(w["setup"])
        attempt("setup cell", setup)
        n_cells += 1
        # idle after the first cell: ckernel's snapshot for the next cell is
        # forked by then, and counts (issue 18)
        time.sleep(0.3)
        fig["rss_idle"], fig["pss_idle"], fig["procs_idle"] = memory(k.proc.pid)

        def roundtrips():
            xs, timers = [], []
            for _ in range(a.roundtrips):
                t, reply, _ = cells.one(w["trivial"])
                xs.append(t)
                timers.append(timing_of(reply))
            raw["roundtrip"] = xs
            fig["rt_median"] = statistics.median(xs)
            fig["rt_p99"] = pct(xs, 99)
            if spec == "floor":
                return
            if all(timers):
                keys = sorted({key for t in timers for key in t})
                fig["timers"] = {key: statistics.median(t.get(key, 0) for t in timers) for key in keys}
                raw["timers"] = timers
            else:
                fig["timers"] = None        # not reported
        attempt("round trip", roundtrips)
        n_cells += a.roundtrips

        def lockstep():
            t, lines = cells.run_all([w["line"](i) for i in range(a.cells)], lockstep=True)
            fig["runall_lockstep"], fig["runall_lockstep_lines"] = t, lines
        attempt("run all, lock step", lockstep)
        n_cells += a.cells
        fig["rss_after"], fig["pss_after"], fig["procs_after"] = memory(k.proc.pid)
        fig["cells_before_rss_after"] = n_cells

        def backtoback():
            k0, c0 = cpu_seconds(k.proc.pid), sum(os.times()[:2])
            t, lines = cells.run_all([w["line"](i) for i in range(a.cells)], lockstep=False)
            fig["runall"], fig["runall_lines"] = t, lines
            # issue 18: two cores, both busy, so CPU a cell is what counts
            fig["runall_cpu"] = (cpu_seconds(k.proc.pid) - k0) / a.cells
            fig["runall_client_cpu"] = (sum(os.times()[:2]) - c0) / a.cells
        attempt("run all, back to back", backtoback)

        if lang == "c" and spec != "floor":
            def compile_():
                walls, timers = [], []
                for rep in range(3):
                    t, reply, _ = cells.one(c_compile_cell(a.compile_lines, f"r{rep}"))
                    walls.append(t)
                    timers.append(timing_of(reply))
                raw["compile_wall"] = walls
                # the first in a session of a few definitions, as the issue
                # describes; the third shows how compile time grows with the
                # number of definitions in the session
                fig["compile_wall_lps"] = a.compile_lines / walls[0]
                fig["compile_wall_lps_3rd"] = a.compile_lines / walls[-1]
                if all(timers) and all("compile" in t for t in timers):
                    fig["compile_lps"] = a.compile_lines / statistics.median(t["compile"] for t in timers)
                    raw["compile_timers"] = timers
                else:
                    fig["compile_lps"] = None
            attempt("compile", compile_)

        if lang == "c" and spec != "floor":
            def heap():
                # issue 11: the counting allocator against glibc's own
                # malloc+free, in the same cell (nb_bench_heap, nb.h)
                # the fastest of the interleaved runs: the machine's load
                # only ever adds time, to either side
                secs = 0.02 if a.smoke else 0.5
                _, _, out = cells.one("#include <stdio.h>\n"
                                      f"nb_bench_time({secs});\n"
                                      "nb_heap_cost hc = nb_bench_heap(64);\n"
                                      'printf("heapcost %.6g %.6g\\n", hc.counted.min_ns_per_op, '
                                      "hc.glibc.min_ns_per_op);")
                m = re.search(r"heapcost (\S+) (\S+)", out)
                fig["heap_counted"], fig["heap_glibc"] = float(m.group(1)) / 1e9, float(m.group(2)) / 1e9
                fig["heap_ratio"] = fig["heap_counted"] / fig["heap_glibc"]
            attempt("heap", heap)

        if lang == "c" and spec != "floor":
            def cc():
                # issue 15: one function compiled by tcc and by gcc -O2 (%%cc)
                # in the same session, timed side by side in one cell by
                # nb_bench (median CPU time of the thread per call)
                body = ("(const int *a, long n) {\n  long s = 0;\n"
                        "  for (long i = 0; i < n; i++) s += (long)a[i] * a[i];\n  return s;\n}\n")
                cells.one("#include <stdio.h>\n#include <stdlib.h>")
                _, by_tcc, _ = cells.one("long sum_sq_tcc" + body)
                _, by_gcc, _ = cells.one("%%cc gcc -O2\nlong sum_sq_gcc" + body)
                secs = 0.02 if a.smoke else 0.3
                _, _, out = cells.one(
                    "int *data;\nlong data_n = 4096;\n"
                    "void b_tcc(nb_b *b) {\n"
                    "  for (long i = 0; i < b->n; i++) nb_keep(sum_sq_tcc(data, data_n));\n}\n"
                    "void b_gcc(nb_b *b) {\n"
                    "  for (long i = 0; i < b->n; i++) nb_keep(sum_sq_gcc(data, data_n));\n}\n"
                    f"nb_bench_time({secs});\n"
                    "data = malloc(data_n * sizeof *data);\n"
                    "for (long i = 0; i < data_n; i++) data[i] = (int)i;\n"
                    'nb_result t = nb_bench("sum_sq_tcc", b_tcc);\n'
                    'nb_result g = nb_bench("sum_sq_gcc", b_gcc);\n'
                    'printf("ccbench %.6g %.6g\\n", t.cpu_ns_per_op, g.cpu_ns_per_op);')
                m = re.search(r"ccbench (\S+) (\S+)", out)
                fig["cc_tcc"], fig["cc_gcc"] = float(m.group(1)) / 1e9, float(m.group(2)) / 1e9
                fig["cc_speedup"] = fig["cc_tcc"] / fig["cc_gcc"]
                fig["cc_compile_tcc"] = timing_of(by_tcc)["compile"]
                fig["cc_compile_gcc"] = timing_of(by_gcc)["compile"]
                raw["cc_bench_output"] = out
            attempt("cc", cc)
            def leaks():
                # issue 13: the leak scan when a cell ends, with 10,000 live
                # blocks (kept in a global: none is a leak), on the cells
                # after it; the fastest of five (the worker's own timer)
                cells.one("#include <stdlib.h>\nvoid *bench_kept[10000];\n"
                          "for (int i = 0; i < 10000; i++) bench_kept[i] = malloc(16 + i % 64);")
                scans = []
                for _ in range(1 if a.smoke else 5):
                    _, reply, _ = cells.one("bench_kept[0] = bench_kept[0];")
                    scans.append((timing_of(reply) or {}).get("leaks"))
                fig["leaks_10k"] = min(scans) if all(x is not None for x in scans) else None
                cells.one("for (int i = 0; i < 10000; i++) free(bench_kept[i]);")
            attempt("leaks", leaks)
            def escape():
                # issue 14: %%escape of a 100-line cell, ckernel's own part
                # (parse + analysis: the analyser's CPU time, which the
                # machine's load does not inflate); the compilers are not counted
                from escape_cell import escape_cell
                parse, analysis = [], []
                for _ in range(2 if a.smoke else 5):
                    _, reply, _ = cells.one(escape_cell(100))
                    t = timing_of(reply) or {}
                    parse.append(t["escape_parse_cpu_ms"] / 1e3)
                    analysis.append(t["escape_analysis_cpu_ms"] / 1e3)
                fig["escape_parse"] = statistics.median(parse)
                fig["escape_analysis"] = statistics.median(analysis)
                fig["escape_total"] = statistics.median(p + q for p, q in zip(parse, analysis))
            attempt("escape", escape)

            def profiler():
                # issue 13: what %%profile costs a CPU-bound cell of about a
                # second at the default rate, in CPU time (what sampling adds;
                # the machine's load does not count), fastest of 3 each way,
                # the two ways interleaved
                secs = 0.05 if a.smoke else 1.0
                cells.one("volatile double pf_sink;\n"
                          "void pf_spin(long n) { double s = 0; for (long i = 0; i < n; i++) s += i * 0.5; "
                          "pf_sink = s; }")
                cpu = lambda rep: rep["metadata"]["ckernel"]["measure"]["cpu_ns"] / 1e9
                n = int(secs / (cpu(cells.one("pf_spin(20000000);")[1]) / 20e6))
                plain, prof = [], []
                for _ in range(1 if a.smoke else 3):
                    plain.append(cpu(cells.one(f"pf_spin({n});")[1]))
                    prof.append(cpu(cells.one(f"%%profile\npf_spin({n});")[1]))
                fig["profile_plain_cpu"], fig["profile_cpu"] = min(plain), min(prof)
                fig["profile_overhead"] = min(prof) / min(plain) - 1
            attempt("profiler", profiler)

        if spec != "floor":
            def output():
                # MB/s reaching the client. A kernel that sends each write as
                # its own message can take minutes for 50 MB: after
                # --output-cap seconds the figure is what arrived so far (the
                # session is shut down next, so the cell need not finish).
                lines = int(a.output_mb * 1e6 / 100)
                t0 = time.perf_counter()
                mid = k.execute(w["output"](lines))
                st = {"bytes": 0, "msgs": 0, "idle": False}

                def done(ch, m):
                    if m["parent_header"].get("msg_id") == mid:
                        if m["msg_type"] == "stream":
                            st["bytes"] += len(m["content"]["text"])
                            st["msgs"] += 1
                        elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                            st["idle"] = True
                    return st["idle"] or time.perf_counter() - t0 > a.output_cap
                k.wait(done, timeout=a.output_cap + 60)
                t = time.perf_counter() - t0
                fig["output_mbps"] = st["bytes"] / 1e6 / t
                fig["output_messages"] = st["msgs"]
                fig["output_capped"] = not st["idle"]
                # bytes the cell printed that never reached the client (an
                # iopub high-water mark dropping messages), when it finished
                fig["output_lost"] = lines * 100 - st["bytes"] if st["idle"] else None
            attempt("output", output)

        if lang == "c" and spec != "floor":
            def growth():
                # issue 18: a session's length must not slow it. After
                # --grow-cells cells of definitions (each a global, a function,
                # a struct), the round trip and the compile of the same
                # trivial cell again, against the fresh figures above
                for i in range(a.grow_cells):
                    cells.one(f"int grow_g{i} = {i};\nint grow_f{i}(int x) {{ return x + grow_g{i}; }}\n"
                              f"struct grow_s{i} {{ int a, b; }};")
                xs, compiles = [], []
                for _ in range(max(a.roundtrips // 5, 5)):
                    t, reply, _ = cells.one(w["trivial"])
                    xs.append(t)
                    compiles.append((timing_of(reply) or {}).get("compile"))
                fig["rt_grown"] = statistics.median(xs)
                fig["rt_growth"] = fig["rt_grown"] / fig["rt_median"] if fig.get("rt_median") else None
                fresh = (fig.get("timers") or {}).get("compile")
                if fresh and all(c is not None for c in compiles):
                    fig["compile_grown"] = statistics.median(compiles)
                    fig["compile_growth"] = fig["compile_grown"] / fresh
            attempt("session growth", growth)
    except Exception as e:
        errors.append(f"session: {e}")
        print(f"  {name}: session FAILED: {e}", file=sys.stderr)
    finally:
        k.shutdown()
    fig["errors"] = errors
    return fig, raw


# --------------------------------------------------------------------------
# The table.
# --------------------------------------------------------------------------

MS, MB = 1e3, 1 / 2**20
# (key, label, unit scale, unit, lower is better, C only, floor applies)
ROWS = [
    ("start", "start, launch to kernel_info_reply (median)", MS, "ms", True, False, True),
    ("rt_median", "round trip `n++;` to idle (median)", MS, "ms", True, False, True),
    ("rt_p99", "round trip `n++;` to idle (p99)", MS, "ms", True, False, True),
    ("rt_server", "round trip `n++;` through jupyter_server's websocket (median)", MS, "ms", True, False, False),
    ("rt_server_cpu", "  jupyter_server's CPU a cell", MS, "ms", True, False, False),
    ("rt_server_nomeasure", "  the same round trip, ckernel under `%measure off`", MS, "ms", True, True, False),
    ("rt_server_nomeasure_cpu", "  jupyter_server's CPU a cell, `%measure off`", MS, "ms", True, True, False),
    ("runall", "Run All {cells} cells, back to back", MS, "ms", True, False, True),
    ("runall_cpu", "  CPU a cell: the kernel's processes", MS, "ms", True, False, True),
    ("runall_client_cpu", "  CPU a cell: the client (jupyter_client, Python)", MS, "ms", True, False, True),
    ("runall_lockstep", "Run All {cells} cells, lock step", MS, "ms", True, False, True),
    ("compile_lps", "compile {compile_lines}-line cell (kernel timer)", 1e-6, "M lines/s", False, True, False),
    ("compile_wall_lps", "compile {compile_lines}-line cell (wall, to idle, 1st)", 1e-6, "M lines/s", False, True, False),
    ("compile_wall_lps_3rd", "the same, 3rd such cell in the session (wall)", 1e-6, "M lines/s", False, True, False),
    ("heap_counted", "malloc+free 64 B, the counting allocator (fastest run)", 1e9, "ns", True, True, False),
    ("heap_glibc", "malloc+free 64 B, glibc's own, interleaved (fastest run)", 1e9, "ns", True, True, False),
    ("escape_total", "%%escape of a 100-line cell: parse + analysis, CPU (median)", MS, "ms", True, True, False),
    ("escape_parse", "  of which libclang's parse", MS, "ms", True, True, False),
    ("escape_analysis", "  of which the analysis", MS, "ms", True, True, False),
    ("cc_tcc", "sum of squares of 4096 ints, compiled by tcc (CPU)", 1e9, "ns", True, True, False),
    ("cc_gcc", "the same function, %%cc gcc -O2, side by side", 1e9, "ns", True, True, False),
    ("cc_speedup", "  gcc -O2 over tcc", 1, "x", False, True, False),
    ("cc_compile_tcc", "  its cell's compile: tcc (kernel timer)", MS, "ms", True, True, False),
    ("cc_compile_gcc", "  its cell's compile: gcc -O2 (kernel timer)", MS, "ms", True, True, False),
    ("heap_ratio", "malloc+free 64 B, counted / glibc's", 1, "x", True, True, False),
    ("leaks_10k", "leak scan at a cell's end, 10,000 live blocks", MS, "ms", True, True, False),
    ("rt_grown", "round trip `n++;` after {grow_cells} cells of definitions", MS, "ms", True, True, False),
    ("rt_growth", "  against a fresh session's", 1, "x", True, True, False),
    ("compile_grown", "compile of `n++;` after {grow_cells} cells (kernel timer)", MS, "ms", True, True, False),
    ("compile_growth", "  against a fresh session's", 1, "x", True, True, False),
    ("profile_plain_cpu", "CPU-bound cell of ~1 s, CPU time (fastest of 3)", 1, "s", True, True, False),
    ("profile_cpu", "the same under %%profile at 1 kHz (fastest of 3)", 1, "s", True, True, False),
    ("profile_overhead", "%%profile's overhead, CPU time", 100, "%", True, True, False),
    ("output_mbps", "output {output_mb:g} MB in one cell", 1, "MB/s", False, False, False),
    ("output_messages", "output: stream messages", 1, "", True, False, False),
    ("output_lost", "output: bytes lost on the way", 1, "bytes", True, False, False),
    ("rss_idle", "RSS idle after a cell, all processes (ckernel: kernel, worker, snapshot)", MB, "MiB", True, False, True),
    ("rss_after", "RSS after {cells_before} cells", MB, "MiB", True, False, True),
    ("pss_idle", "PSS idle after a cell, all processes", MB, "MiB", True, False, True),
]


# Figures that exist only when the kernel reports its own timers.
OPTIONAL = {"compile_lps", "output_lost"}


def goals(res):
    """The goals of issues 6, 11, 13 and 18: [(figure key, text, met or None)]."""
    c, x = res.get("ckernel", {}), res.get("xeus-python", {})

    def cmp(key, ok):
        a, b = c.get(key), x.get(key)
        return None if a is None or b is None else ok(a, b)
    timers = c.get("timers") or {}
    out = [
        ("start", ">= 10x faster than xeus-python", cmp("start", lambda a, b: a * 10 <= b)),
        ("rt_median", "<= 0.75x xeus-python's", cmp("rt_median", lambda a, b: a <= 0.75 * b)),
        ("rt_server", "<= xeus-python's", cmp("rt_server", lambda a, b: a <= b)),
        ("runall", "<= 0.75x xeus-python's", cmp("runall", lambda a, b: a <= 0.75 * b)),
        ("runall_lockstep", "<= 0.75x xeus-python's", cmp("runall_lockstep", lambda a, b: a <= 0.75 * b)),
        ("compile_lps", ">= 1 M lines/s",
         None if c.get("compile_lps") is None else c["compile_lps"] >= 1e6),
        # without the kernel's timer, judge the wall time (which only errs
        # on the side of "missed")
        ("compile_wall_lps", ">= 1 M lines/s (timer not reported)",
         None if c.get("compile_lps") is not None or c.get("compile_wall_lps") is None
         else c["compile_wall_lps"] >= 1e6),
        ("timer:compile", "<= 0.3 ms",
         None if "compile" not in timers else timers["compile"] <= 0.3e-3),
        ("rss_idle", "< 10 MiB", None if c.get("rss_idle") is None else c["rss_idle"] < 10 * 2**20),
        ("pss_idle", "< 4 MiB (200 kernels in 1 GiB)", None if c.get("pss_idle") is None else c["pss_idle"] < 4 * 2**20),
        # issue 11
        ("heap_ratio", "<= 1.3x glibc's own",
         None if c.get("heap_ratio") is None else c["heap_ratio"] <= 1.3),
        # issue 13: %leaks is on by default if this stays at a few ms
        ("leaks_10k", "<= 3 ms", None if c.get("leaks_10k") is None else c["leaks_10k"] <= 3e-3),
        # issue 18: flat as a session grows
        ("rt_growth", "<= 1.2x", None if c.get("rt_growth") is None else c["rt_growth"] <= 1.2),
        ("compile_growth", "<= 1.2x", None if c.get("compile_growth") is None else c["compile_growth"] <= 1.2),
        # issue 13
        ("profile_overhead", "< 5% at the default rate",
         None if c.get("profile_overhead") is None else c["profile_overhead"] < 0.05),
        # issue 14
        ("escape_total", "< 100 ms", None if c.get("escape_total") is None else c["escape_total"] < 0.1),
    ]
    return out


def fmt(v, scale):
    if v is None:
        return "-"
    if isinstance(v, int) and scale == 1:
        return str(v)
    v *= scale
    return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"


def table(res, a, names):
    g = {key: (text, met) for key, text, met in goals(res)}
    fill = dict(cells=a.cells, compile_lines=a.compile_lines, output_mb=a.output_mb, grow_cells=a.grow_cells,
                cells_before=res.get("ckernel", {}).get("cells_before_rss_after", "?"))
    others = [n for n in names if n not in ("ckernel", "floor")]
    head = ["figure", "unit"] + names + ["ckernel vs best other", "goal", ""]
    rows = []
    for key, label, scale, unit, lower, c_only, floor_ok in ROWS:
        vals = []
        for n in names:
            v = res.get(n, {}).get(key)
            if n == "floor" and not floor_ok:
                vals.append("")
            elif c_only and n not in ("ckernel",):
                vals.append("")
            else:
                capped = key == "output_mbps" and res.get(n, {}).get("output_capped")
                vals.append(fmt(v, scale) + (" (capped)" if capped else ""))
        ratio = ""
        cv = res.get("ckernel", {}).get(key)
        ov = [res[n][key] for n in others if res.get(n, {}).get(key) is not None]
        best = (min(ov) if lower else max(ov)) if ov else 0
        # a figure of 0 (CPU read in clock ticks over a smoke run's few cells) gives no ratio
        if cv and best and not c_only and key not in ("output_messages", "output_lost"):
            r = best / cv if lower else cv / best
            ratio = f"{r:.2f}x better" if r >= 1 else f"{1 / r:.2f}x worse"
        text, met = g.get(key, ("", None))
        if key == "compile_wall_lps" and met is None:
            text = ""
        rows.append([label.format(**fill), unit] + vals + [ratio, text,
                    "" if not text else "met" if met else "MISSED" if met is False else "?"])
    # the kernel's own per-cell timers (ckernel)
    timers = res.get("ckernel", {}).get("timers")
    rt = res.get("ckernel", {}).get("rt_median")
    blank = [""] * (len(names) - 1)
    if timers is None:
        rows.append(["per cell: kernel timers", "", "not reported"] + blank + ["", "", ""])
    else:
        for key, label in TIMER_ROWS:
            if key not in timers:
                continue
            text, met = g.get("timer:" + key, ("", None))
            unit, v = ("", f"{timers[key]:g}") if key == "compiles" else ("ms", fmt(timers[key], MS))
            rows.append([f"per cell `n++;`: {label}", unit, v] + blank
                        + ["", text, "" if not text else "met" if met else "MISSED"])
        if rt is not None:
            worker = [k for k in WORKER_PHASES if k in timers] or ["snapshot", "compile", "run"]
            rest = rt - sum(timers.get(k, 0) for k in worker)
            rows.append(["per cell `n++;`: rest (kernel, messaging, client)", "ms", fmt(rest, MS)]
                        + blank + ["", "", ""])
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


# The worker's timers (metadata.ckernel.timing, common/ipc.h), in the order
# they happen; the phases in WORKER_PHASES add up to the worker's part.
TIMER_ROWS = [
    ("prepare", "worker: magics, split, compile"),
    ("compile", "  of which compile (unit + libtcc)"),
    ("compiles", "  libtcc runs per cell"),
    ("snapshot", "worker: snapshot fork"),
    ("after_fork", "worker: fork to \"started\" sent"),
    ("cell", "worker: commit, run, measure"),
    ("run", "  of which the cell's code"),
    ("reply", "worker: the reply event"),
]
WORKER_PHASES = ("prepare", "snapshot", "after_fork", "cell", "reply")


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = "?"
    with open("/proc/meminfo") as f:
        for l in f:
            if l.startswith("MemTotal"):
                mem = f"{int(l.split()[1]) // 1024} MiB"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "linux": platform.release(), "python": platform.python_version()}


def versions():
    out = {}
    for pkg in ("python3-ipykernel", "xpython", "libtcc-dev", "python3-jupyter-client", "libzmq5"):
        try:
            out[pkg] = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                                      capture_output=True, text=True).stdout or None
        except OSError:
            out[pkg] = None
    return out


def server_roundtrips(kernels, names, a, log):
    """Issue 18: what JupyterLab feels. The round trip of the trivial cell
    through one jupyter_server (TCP_NODELAY on its websockets, as `make run`
    sets it), over its websocket as a notebook tab holds it, for each
    kernel in turn, in the same run; and the server's own CPU a cell. For
    ckernel, also with `%measure off`: the measurement line is one message
    more a cell than xeus-python sends. {name: {figure: seconds}}."""
    import asyncio
    import tempfile
    sys.path.insert(0, os.path.join(REPO, "tests", "hub"))
    import jupyter_ws
    out = {}
    trivial = {"c": ("#include <stdio.h>\nint n;", "n++;"), "python": ("n = 0", "n += 1")}

    async def one(server, server_pid, spec, lang, first=""):
        kid = await server.start_kernel(spec)
        ws = await server.connect(kid)
        try:
            await ws.execute(first + trivial[lang][0])
            xs, n = [], a.roundtrips // 2 if not a.smoke else 3
            cpu0 = own_cpu(server_pid)
            for _ in range(n):
                xs.append((await ws.execute(trivial[lang][1]))[2])
            cpu = own_cpu(server_pid) - cpu0
            return statistics.median(xs), cpu / n
        finally:
            ws.close()
            await server.request("DELETE", f"api/kernels/{kid}")

    async def all_kernels():
        with tempfile.TemporaryDirectory() as root:
            port, token = jupyter_ws.free_port(), uuid.uuid4().hex
            path = os.pathsep.join([os.path.join(BUILD, "share", "jupyter"), "/usr/share/jupyter"])
            proc = jupyter_ws.start_jupyter_server(root, port, token, path,
                                                   ["--config", os.path.join(REPO, "tools", "ws_nodelay_config.py")])
            try:
                server = jupyter_ws.Server(f"http://127.0.0.1:{port}/", token)
                await server.wait_up()
                for n in names:
                    spec, lang = kernels[n]
                    if n == "floor" or spec is None:
                        continue
                    try:
                        rt, cpu = await one(server, proc.pid, spec, lang)
                        out[n] = {"rt_server": rt, "rt_server_cpu": cpu}
                        if n == "ckernel":
                            rt, cpu = await one(server, proc.pid, spec, lang, "%measure off\n")
                            out[n].update(rt_server_nomeasure=rt, rt_server_nomeasure_cpu=cpu)
                    except Exception as e:                   # said, and the figure is missing
                        log.write(f"server round trip, {n}: {e}\n")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    asyncio.run(all_kernels())
    return out


def xpython_spec():
    """The kernelspec name of xeus-python (Debian's xpython package)."""
    specs = KernelSpecManager().get_all_specs()
    if "xpython" in specs:
        return "xpython"
    for name, s in specs.items():
        argv = s["spec"].get("argv", [])
        if argv and os.path.basename(argv[0]) == "xpython" and "--raw" not in argv:
            return name
    return None


def main():
    def env(name, default, kind=int):
        return kind(os.environ.get("BENCH_" + name.upper(), default))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--starts", type=int, default=env("starts", 10), help="kernel starts (10)")
    p.add_argument("--roundtrips", type=int, default=env("roundtrips", 500), help="trivial cells (500)")
    p.add_argument("--cells", type=int, default=env("cells", 1000), help="Run All cells (1000)")
    p.add_argument("--grow-cells", type=int, default=env("grow_cells", 600),
                   help="cells of definitions before the session-growth figures (600)")
    p.add_argument("--compile-lines", type=int, default=env("compile_lines", 5000),
                   help="lines of the compile cell (5000)")
    p.add_argument("--output-mb", type=float, default=env("output_mb", 50, float),
                   help="MB (10^6 bytes) one cell prints (50)")
    p.add_argument("--output-cap", type=float, default=env("output_cap", 20, float),
                   help="seconds to wait for the output cell before taking what arrived (20)")
    p.add_argument("--kernels", default=os.environ.get("BENCH_KERNELS", "ckernel,ipykernel,xeus-python,floor"),
                   help="which to run, of ckernel,ipykernel,xeus-python,floor")
    p.add_argument("--smoke", action="store_true",
                   help="few iterations; fail unless every measurement gave a number")
    p.add_argument("--out", default=os.path.join(BUILD, "bench", "bench.json"), help="JSON file")
    a = p.parse_args()
    if a.smoke:
        a.starts, a.roundtrips, a.cells, a.compile_lines, a.output_mb = 2, 5, 10, 500, 0.2
        a.grow_cells = 20
        if a.out == os.path.join(BUILD, "bench", "bench.json"):
            a.out = os.path.join(BUILD, "bench", "bench-smoke.json")

    kernels = {"ckernel": ("c", "c"), "ipykernel": ("python3", "python"),
               "xeus-python": (xpython_spec(), "python"), "floor": ("floor", "python")}
    names = [n.strip() for n in a.kernels.split(",") if n.strip()]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    log_path = os.path.join(BUILD, "bench", "kernels.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    res, raw = {}, {}
    t_all = time.monotonic()
    with open(log_path, "w") as log:
        for n in names:
            spec, lang = kernels[n]
            if spec is None:
                res[n] = {"errors": [f"{n}: no kernelspec found (is its Debian package installed?)"]}
                print(f"  {n}: no kernelspec", file=sys.stderr)
                continue
            if spec == "floor" and not os.access(ECHO_FLOOR, os.X_OK):
                res[n] = {"errors": [f"{ECHO_FLOOR} is not built"]}
                continue
            print(f"benchmarking {n} ({spec}) ...", file=sys.stderr, flush=True)
            t = time.monotonic()
            log.write(f"==== {n}\n")
            log.flush()
            res[n], raw[n] = bench_kernel(n, spec, lang, a, log)
            print(f"  {n}: {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)

        print("benchmarking the round trip through jupyter_server ...", file=sys.stderr, flush=True)
        try:
            for n, v in server_roundtrips(kernels, names, a, log).items():
                res.setdefault(n, {}).update(v)
        except Exception as e:
            print(f"  through jupyter_server: FAILED: {e}", file=sys.stderr)

    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(), "versions": versions(),
        "params": {"starts": a.starts, "roundtrips": a.roundtrips, "cells": a.cells,
                   "compile_lines": a.compile_lines, "output_mb": a.output_mb, "smoke": a.smoke},
        "units": "seconds, bytes, lines/s, MB/s (MB = 10^6 bytes)",
        "kernels": {n: kernels[n][0] for n in names},
        "results": res,
        "goals": [{"figure": key, "goal": text, "met": met} for key, text, met in goals(res)],
        "raw": raw,
        "seconds": time.monotonic() - t_all,
    }
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)

    m = report["machine"]
    print(f"\n{report['date'][:10]}, {m['cpu']}, {m['cores']} cores, {m['memory']}, Linux {m['linux']}"
          f"{'  (SMOKE RUN: few iterations, figures mean nothing)' if a.smoke else ''}")
    print(table(res, a, names))
    print(f"\nJSON: {os.path.relpath(a.out, REPO)}; kernel stderr: {os.path.relpath(log_path, REPO)};"
          f" took {report['seconds']:.0f} s")

    # Every measurement must have given a number (never judge the numbers).
    missing = [f"{n}: {e}" for n in names for e in res.get(n, {}).get("errors", [])]
    for key, label, _s, _u, _l, c_only, floor_ok in ROWS:
        for n in names:
            if (n == "floor" and not floor_ok) or (c_only and n != "ckernel"):
                continue
            if res.get(n, {}).get(key) is None and key not in OPTIONAL:
                missing.append(f"{n}: no figure for {key}")
    if missing:
        print("\nmissing measurements:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
