#!/usr/bin/python3
"""Soak test (issue 4, item 7): `make soak`.

10,000 trivial executes in a row on one kernel, then 100 restarts. Prints
the kernel's and the worker's resident memory (VmRSS) and open descriptors
(/proc/PID/fd) at the start, along the way and at the end, and any stray
process: one that belonged to a kernel (its descendants, also those
reparented to it, and its session) and is still alive after that kernel
was restarted or shut down. Exits 1 if memory grew, descriptors leaked or a
process was left behind; the figures go to README.md's "Soak".

  tests/soak/soak.py [--executes N] [--restarts N] [--json FILE]
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from reliability.conftest import (  # noqa: E402
    alive, collect, describe, kernel_family, kernel_pid, run_ok, start_kernel, stop_kernel,
    wait_gone,
)

# After warm-up (execute 1000), what the kernel or the worker may grow by
# per execute. The kernel keeps every input for history_request (about 50
# bytes a cell here), so "flat" means no more than that kind of growth.
RSS_GROWTH_LIMIT_B = 512


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def worker_pid(km):
    """The worker: the kernel's child that runs ckernel-worker."""
    k = kernel_pid(km)
    for pid in kernel_family(km):
        if pid == k:
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                data = f.read()
            if int(data[data.rindex(")") + 2:].split()[1]) == k:
                return pid
        except (OSError, ValueError):
            pass
    return None


def sample(km):
    k, w = kernel_pid(km), worker_pid(km)
    return {"kernel_rss_kb": rss_kb(k), "worker_rss_kb": rss_kb(w) if w else 0,
            "kernel_fds": fds(k), "worker_fds": fds(w) if w else -1,
            "processes": len(alive(kernel_family(km))), "worker": w}


def fmt(s):
    return (f"kernel {s['kernel_rss_kb'] / 1024:6.1f} MiB {s['kernel_fds']:3d} fds | "
            f"worker {s['worker_rss_kb'] / 1024:6.1f} MiB {s['worker_fds']:3d} fds | "
            f"{s['processes']} processes")


def soak_executes(n):
    km, kc = start_kernel()
    try:
        run_ok(kc, "long soak_n = 0;\n#include <stdio.h>")
        first = sample(km)
        print(f"executes: start         {fmt(first)}", flush=True)
        t0 = time.monotonic()
        samples, warm = [], None
        for i in range(1, n + 1):
            msg_id = kc.execute("soak_n++;")
            reply, _ = collect(kc, msg_id, timeout=30)
            if reply["status"] != "ok":
                raise SystemExit(f"execute {i} failed: {reply}")
            if i == min(1000, n) or i % max(n // 10, 1) == 0:
                s = sample(km)
                samples.append((i, s))
                if warm is None:
                    warm = s
                print(f"executes: {i:6d}        {fmt(s)}", flush=True)
        took = time.monotonic() - t0
        count = run_ok(kc, 'printf("%ld\\n", soak_n);').strip()
        last = sample(km)
        if count != str(n):
            raise SystemExit(f"the counter says {count}, expected {n}")
        print(f"executes: {n} in {took:.1f} s ({1000 * took / n:.2f} ms each)")
        return {"n": n, "seconds": round(took, 1), "start": first, "after_1000": warm, "end": last,
                "samples": samples}
    finally:
        procs = kernel_family(km)
        stop_kernel(km, kc)
        left = wait_gone(procs, timeout=5)
        if left:
            print(f"executes: left after shutdown: {describe(left)}")


def soak_restarts(n):
    km, kc = start_kernel()
    seen = {}
    figures = []
    try:
        run_ok(kc, "int x = 1;")
        first = sample(km)
        print(f"restarts: start         {fmt(first)}", flush=True)
        t0 = time.monotonic()
        for i in range(1, n + 1):
            seen.update(kernel_family(km))
            km.restart_kernel(now=False)
            kc.wait_for_ready(timeout=30)
            if run_ok(kc, 'printf("%d\\n", 40 + 2);', timeout=30) != "42\n":
                raise SystemExit(f"restart {i}: the new kernel does not run cells")
            if i % max(n // 5, 1) == 0:
                s = sample(km)
                figures.append((i, s))
                print(f"restarts: {i:6d}        {fmt(s)}", flush=True)
        took = time.monotonic() - t0
        last = sample(km)
        seen_now = {p: st for p, st in seen.items() if p not in kernel_family(km)}
        left = wait_gone(seen_now, timeout=5)
        print(f"restarts: {n} in {took:.1f} s; processes of old kernels still alive: "
              f"{len(left)}{' (' + describe(left) + ')' if left else ''}")
        return {"n": n, "seconds": round(took, 1), "start": first, "end": last,
                "stray_after_restarts": {str(p): describe([p]) for p in left}, "samples": figures}
    finally:
        procs = kernel_family(km)
        procs.update(seen)
        stop_kernel(km, kc)
        left = wait_gone(procs, timeout=5)
        if left:
            print(f"restarts: left after the final shutdown: {describe(left)}")
        for pid in left:            # leave nothing behind on this machine
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--executes", type=int, default=10000)
    ap.add_argument("--restarts", type=int, default=100)
    ap.add_argument("--json", default=os.path.join(HERE, "..", "..", "build", "soak.json"))
    a = ap.parse_args()
    ex = soak_executes(a.executes)
    rs = soak_restarts(a.restarts)
    problems = []
    base = ex["after_1000"] or ex["start"]
    for who in ("kernel", "worker"):
        grew = ex["end"][f"{who}_rss_kb"] - base[f"{who}_rss_kb"]
        per = 1024 * grew / max(a.executes - min(1000, a.executes), 1)
        print(f"  {who} RSS growth after warm-up: {grew} KiB, {per:.0f} bytes per execute")
        if per > RSS_GROWTH_LIMIT_B:
            problems.append(f"the {who}'s memory grew by {grew} KiB ({per:.0f} B per execute) "
                            f"from execute 1000 to {a.executes}")
        if ex["end"][f"{who}_fds"] != ex["start"][f"{who}_fds"]:
            problems.append(f"the {who}'s descriptors went from {ex['start'][f'{who}_fds']} "
                            f"to {ex['end'][f'{who}_fds']} over the executes")
    if rs["end"]["kernel_fds"] != rs["start"]["kernel_fds"]:
        problems.append(f"a restarted kernel has {rs['end']['kernel_fds']} descriptors, "
                        f"the first had {rs['start']['kernel_fds']}")
    if rs["stray_after_restarts"]:
        problems.append(f"{len(rs['stray_after_restarts'])} processes of old kernels survived restarts")
    print()
    print("Soak summary")
    print(f"  {a.executes} executes in {ex['seconds']} s: kernel RSS "
          f"{ex['start']['kernel_rss_kb'] / 1024:.1f} -> {ex['end']['kernel_rss_kb'] / 1024:.1f} MiB, "
          f"worker RSS {ex['start']['worker_rss_kb'] / 1024:.1f} -> {ex['end']['worker_rss_kb'] / 1024:.1f} MiB, "
          f"fds kernel {ex['start']['kernel_fds']} -> {ex['end']['kernel_fds']}, "
          f"worker {ex['start']['worker_fds']} -> {ex['end']['worker_fds']}")
    print(f"  {a.restarts} restarts in {rs['seconds']} s: kernel RSS "
          f"{rs['start']['kernel_rss_kb'] / 1024:.1f} -> {rs['end']['kernel_rss_kb'] / 1024:.1f} MiB, "
          f"fds {rs['start']['kernel_fds']} -> {rs['end']['kernel_fds']}, "
          f"stray processes {len(rs['stray_after_restarts'])}")
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"executes": ex, "restarts": rs, "problems": problems}, f, indent=1)
    for p in problems:
        print(f"  PROBLEM: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
