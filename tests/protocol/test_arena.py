"""Issue 18: one code region and one data region for every cell's unit.

A session's length must not slow it: the snapshot fork after every reply
copies each of the worker's mappings, and a unit laid out as one block
added two (its code read+execute, its data read-write) that could not
merge. Counts, not time: the worker's mappings after 200 defining cells."""
from .conftest import kernel_pid, process_tree, run_ok


def worker_mappings(km):
    """The mappings of the kernel's worker processes (the worker and its
    snapshot, when one is alive): the largest count."""
    counts = []
    for pid in process_tree(kernel_pid(km)):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "ckernel-worker":
                    continue
            with open(f"/proc/{pid}/maps") as f:
                counts.append(sum(1 for _ in f))
        except OSError:
            continue                        # a snapshot that went away
    assert counts, "no worker process found"
    return max(counts)


def defining_cell(i):
    """A global, a function, a struct, a static and a string: code, data,
    bss and a literal in one unit."""
    return (f"int arena_g{i} = {i};\nstatic int arena_s{i};\n"
            f"int arena_f{i}(int x) {{ arena_s{i}++; return x + arena_g{i}; }}\n"
            f"struct arena_t{i} {{ int a, b; }};\nconst char *arena_m{i} = \"m{i}\";")


def test_mappings_do_not_grow_with_the_cells(kernel):
    km, kc = kernel
    for i in range(20):
        run_ok(kc, defining_cell(i))
    before = worker_mappings(km)
    for i in range(20, 220):
        run_ok(kc, defining_cell(i))
    after = worker_mappings(km)
    # laid out one block a unit, the 200 cells added 400 mappings
    assert after - before < 20, (before, after)
    # every cell's data and code still there, and still its own
    out = run_ok(kc, 'printf("%d %s %s\\n", arena_f0(1) + arena_f219(1), arena_m0, arena_m219);')
    assert out == "221 m0 m219\n", out


def test_pointers_in_a_cells_data_point_where_they_should(kernel):
    """The data region's bytes are relocated by the layout (worker/layout.c):
    pointers to the cell's own code, literals, data and bss, to earlier
    cells' globals and to libc's objects."""
    km, kc = kernel
    run_ok(kc, "#include <stdio.h>\nint older = 5;\ndouble older_d = 2.5;")
    run_ok(kc, 'static void hello(void) { printf("hello\\n"); }\n'
               "void (*say)(void) = hello;\nint *to_older = &older;\ndouble *to_d = &older_d;\n"
               'FILE **out = &stdout;\nconst char *word = "word";\nint zero_c;\nint *to_zero = &zero_c;\n'
               'struct pair { int n; const char *s; } pairs[] = {{1, "a"}, {2, "b"}};\n'
               "int table[64] = {1, 2, 3};\nint *mid = &table[2];")
    out = run_ok(kc, "older = 7; zero_c = 9;\nsay();\n"
                     'printf("%d %g %d %s %d %s%s %d\\n", *to_older, *to_d, *out == stdout, word,\n'
                     "       *to_zero, pairs[0].s, pairs[1].s, *mid);")
    assert out == "hello\n7 2.5 1 word 9 ab 3\n", out


def test_a_cells_data_is_aligned_as_declared(kernel):
    km, kc = kernel
    run_ok(kc, "char before_c = 1;")
    out = run_ok(kc, "_Alignas(64) char line_c[64] = {1};\nstatic _Alignas(32) int z_c[8];\n"
                     'printf("%d %d\\n", (int)((unsigned long)line_c % 64), (int)((unsigned long)z_c % 32));')
    assert out == "0 0\n", out


def test_a_cells_own_globals_read_pc_relative(kernel):
    """tcc reads some of a unit's own globals RIP-relative (a struct's
    double member in arithmetic): the address must be the data's, never a
    PLT stub libtcc would make for an absolute symbol it took for a function."""
    km, kc = kernel
    run_ok(kc, "typedef struct { double a, b, c; } trio;\ntrio make_trio(double x) { return (trio){x, x, x}; }")
    out = run_ok(kc, "trio t1 = make_trio(0.25);\ntrio t2 = make_trio(0.5);\n"
                     "double s = (double)(t1.b + t2.b);\nprintf(\"%g %g\\n\", s, (double)(t1.a + t2.c));")
    assert out == "0.75 0.75\n", out


def test_an_object_the_split_does_not_handle_is_linked_as_one_block(kernel):
    """A common symbol (tcc -fcommon) is not one layout_object moves: that
    unit is linked as before, its data on pages of its own, and works."""
    km, kc = kernel
    run_ok(kc, "int split_before = 1;")
    before = worker_mappings(km)
    run_ok(kc, "%cflags -fcommon\nint common_c;\nint common_d = 4;\n"
               "int read_common(void) { return common_c + common_d; }")
    out = run_ok(kc, "common_c = 3;\nprintf(\"%d %d\\n\", read_common(), split_before);\nnb_where(&common_d);")
    assert out.startswith("7 1\n") and "global data" in out, out
    assert worker_mappings(km) > before     # its own read-write pages: the fallback was taken


def test_a_thread_runs_on_while_later_cells_share_its_code_page(kernel):
    """A unit's code is packed after the last one's, on its read+execute
    page: linking it must never take execute away from that page while a
    thread of an earlier cell runs there."""
    km, kc = kernel
    run_ok(kc, "#include <pthread.h>\nvolatile long spins_t;\nvolatile int stop_t;\n"
               "void *spin_t(void *a) { while (!stop_t) spins_t++; return a; }\n"
               "pthread_t thread_t;\npthread_create(&thread_t, 0, spin_t, 0);")
    for i in range(40):
        run_ok(kc, defining_cell(1000 + i))
    out = run_ok(kc, "long before_t = spins_t;\nusleep(20000);\nint moved_t = spins_t > before_t;\n"
                     "stop_t = 1;\npthread_join(thread_t, 0);\nprintf(\"%d\\n\", moved_t);")
    assert out == "1\n", out
