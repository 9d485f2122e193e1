"""What an idle kernel keeps resident (README "Speed", Idle RSS): the
kernel maps only the library code it runs, and the worker gives libtcc's
memory back once no request has come for a while.

Nothing here is timed: the tests wait for the state they assert."""
import time

from .conftest import kernel_pid, run_ok

INCLUDES = ("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
            "#include <stdint.h>\n#include <time.h>\nint n = 0;\n")

COMPILER_REGION = 1 << 30       # worker/scratch.c: TCCMEM_SIZE, one anonymous mapping


def mapped_paths(pid):
    with open(f"/proc/{pid}/maps") as f:
        return {line.split()[5] for line in f if len(line.split()) > 5}


def compiler_region_rss_kb(pid):
    """Resident KiB of the worker's compiler region: the private anonymous
    mapping of exactly TCCMEM_SIZE bytes."""
    rss, inside = None, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and not fields[0].endswith(":"):
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                inside = hi - lo == COMPILER_REGION and len(fields) == 5 and fields[1] == "rw-p"
            elif inside and fields[0] == "Rss:":
                rss = int(fields[1])
    return rss


def test_the_kernel_maps_no_zeromq_cxx_or_kerberos_library(kernel):
    """libzmq, its C++ runtime and its libraries are linked into the binary
    (Makefile KERNEL_LINK); GSSAPI is answered by kernel/nogss.c, so no
    Kerberos library is loaded at all."""
    km, kc = kernel
    assert run_ok(kc, 'printf("up\\n");') == "up\n"
    paths = mapped_paths(kernel_pid(km))
    loaded = sorted(p for p in paths
                    if any(name in p for name in ("libzmq", "libstdc++", "libgssapi", "libkrb5",
                                                  "libnorm", "libpgm", "libsodium")))
    assert loaded == [], loaded
    assert any("libc.so" in p for p in paths), paths      # libc stays shared


def test_an_idle_worker_gives_the_compilers_memory_back(kernel):
    """The cell with the #includes has libtcc parse whole headers (over a
    MiB); when no request comes for 100 ms the worker returns those pages
    (worker/idle.c), and the cells after it compile as before."""
    km, kc = kernel
    run_ok(kc, INCLUDES)
    worker = int(run_ok(kc, 'printf("%d\\n", (int)getpid());'))
    assert compiler_region_rss_kb(worker) is not None, "no compiler region found"
    deadline = time.monotonic() + 30
    while compiler_region_rss_kb(worker) > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert compiler_region_rss_kb(worker) == 0
    for i in range(3):
        assert run_ok(kc, 'n += 2; printf("%d\\n", n);') == f"{2 * (i + 1)}\n"
    deadline = time.monotonic() + 30
    while compiler_region_rss_kb(worker) > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert compiler_region_rss_kb(worker) == 0
