"""Leaks found when each cell ends (issue 13, part 3): blocks the cells
allocated that nothing reaches any more, read from the reply's metadata
(ckernel.measure.leaked_blocks / leaked_bytes, ckernel.leaks) and from the
measurement line."""
from .conftest import iopub_until_idle, measure_lines, run_ok, shell_reply


def leaks_of(kc, code):
    """The leaks list and the measurement line of CODE."""
    msg_id = kc.execute(code, allow_stdin=False)
    reply = shell_reply(kc, msg_id, timeout=20)
    _, msgs = collect_rest(kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]
    ck = reply["metadata"]["ckernel"]
    lines = measure_lines(msgs)
    text = lines[0]["content"]["data"]["text/plain"] if lines else ""
    m = ck["measure"]
    return m["leaked_blocks"], m["leaked_bytes"], ck.get("leaks", []), text


def collect_rest(kc, msg_id):
    return None, iopub_until_idle(kc, msg_id, timeout=20)


HEADERS = "#include <stdlib.h>\n#include <string.h>\n#include <stdio.h>"
NODE = "struct node { struct node *next; long v; };\nstruct node *head;"


def test_a_lost_pointer_is_a_leak_with_its_size_and_line(kc):
    run_ok(kc, HEADERS)
    blocks, nbytes, leaks, text = leaks_of(kc, "int keep = 1;\nmalloc(24);\n")
    assert (blocks, nbytes) == (1, 24)
    assert leaks == [{"bytes": 24, "function": "the cell's statements", "cell": leaks[0]["cell"], "line": 2}]
    assert isinstance(leaks[0]["cell"], int) and leaks[0]["cell"] > 1
    assert "leaked 1 block / 24 B" in text, text
    assert "leaked 24 B, allocated in the cell's statements" in text and "line 2" in text, text


def test_a_leak_in_a_function_names_the_function_and_line(kc):
    run_ok(kc, HEADERS)
    code = ("void lose(int n) {\n"
            "    char *p = malloc(n);\n"
            "    p[0] = 1;\n"
            "}\n"
            "lose(40); lose(40); lose(8);")
    blocks, nbytes, leaks, text = leaks_of(kc, code)
    assert (blocks, nbytes) == (3, 88)
    assert sorted((l["bytes"], l["function"], l["line"]) for l in leaks) == [
        (8, "lose", 2), (40, "lose", 2), (40, "lose", 2)]
    assert "leaked 3 blocks / 88 B" in text and "2 \u00d7 40 B" in text, text


def test_a_block_in_a_global_and_a_list_from_a_global_are_not_leaks(kc):
    run_ok(kc, HEADERS)
    run_ok(kc, NODE)
    blocks, nbytes, leaks, text = leaks_of(kc, "char *kept = malloc(48);")
    assert (blocks, nbytes, leaks) == (0, 0, [])
    assert "leaked" not in text, text
    code = "for (int i = 0; i < 100; i++) { struct node *n = malloc(sizeof *n); n->next = head; head = n; }"
    assert leaks_of(kc, code)[:3] == (0, 0, [])
    # later cells do not find them either; cutting the list loses 99 nodes
    assert leaks_of(kc, "int nothing = 0;")[:2] == (0, 0)
    blocks, nbytes, leaks, _ = leaks_of(kc, "head->next = 0;")
    assert (blocks, nbytes) == (99, 99 * 16)
    assert len(leaks) == 99 and all(l["bytes"] == 16 for l in leaks)


def test_a_leak_from_an_earlier_cells_function_has_its_cell_and_line(kc):
    run_ok(kc, HEADERS)
    run_ok(kc, NODE)
    msg_id = kc.execute("struct node *make(long v) {\n"
                        "    struct node *n = malloc(sizeof *n);\n"
                        "    n->v = v; n->next = 0;\n"
                        "    return n;\n"
                        "}")
    defined = shell_reply(kc, msg_id, timeout=20)["content"]["execution_count"]
    collect_rest(kc, msg_id)
    assert leaks_of(kc, "head = make(1);")[:2] == (0, 0)
    blocks, nbytes, leaks, text = leaks_of(kc, "make(2); head = make(3);")   # the first node of two lost
    assert (blocks, nbytes) == (2, 32)
    assert sorted((l["function"], l["cell"], l["line"]) for l in leaks) == [("make", defined, 2)] * 2
    assert f"in make (cell {defined}, line 2)" in text, text


def test_an_unreachable_cycle_is_a_leak(kc):
    run_ok(kc, HEADERS)
    run_ok(kc, NODE)
    code = ("{ struct node *a = malloc(sizeof *a), *b = malloc(sizeof *b);\n"
            "  a->next = b; b->next = a; }")
    blocks, nbytes, leaks, _ = leaks_of(kc, code)
    assert (blocks, nbytes) == (2, 32)
    assert [l["line"] for l in leaks] == [1, 1]


def test_a_freed_block_is_not_a_leak(kc):
    run_ok(kc, HEADERS)
    assert leaks_of(kc, "char *p = malloc(40); free(p); p = 0;")[:3] == (0, 0, [])
    assert leaks_of(kc, "free(malloc(10)); free(strdup(\"abc\"));")[:3] == (0, 0, [])


def test_a_leak_is_reported_once_in_the_cell_that_lost_it(kc):
    run_ok(kc, HEADERS)
    assert leaks_of(kc, "char *g = malloc(64);")[:2] == (0, 0)
    assert leaks_of(kc, "int other = 2;")[:2] == (0, 0)
    blocks, nbytes, leaks, _ = leaks_of(kc, "g = 0;")       # lost here, allocated two cells ago
    assert (blocks, nbytes) == (1, 64)
    assert (leaks[0]["function"], leaks[0]["line"]) == ("the cell's statements", 1)
    assert isinstance(leaks[0]["cell"], int)
    for _ in range(2):
        assert leaks_of(kc, "int again = 3;")[:3] == (0, 0, [])
    assert leaks_of(kc, "malloc(5);")[:2] == (1, 5)
    assert leaks_of(kc, "int later = 4;")[:2] == (0, 0)


def test_a_block_held_only_by_a_running_thread_is_not_a_leak(kc):
    run_ok(kc, "%lib pthread\n" + HEADERS + "\n#include <pthread.h>\n#include <unistd.h>")
    run_ok(kc, "volatile int stop_it, started;\n"
               "void *hold(void *arg) {\n"
               "    char *mine = malloc(77);\n"
               "    mine[0] = 1; started = 1;\n"
               "    while (!stop_it) usleep(1000);\n"
               "    free(mine);\n"
               "    return 0;\n"
               "}\n"
               "pthread_t th;")
    # the cell waits until the thread holds its block, then ends: the
    # thread runs on, and only its stack or registers point at the block
    blocks, nbytes, leaks, _ = leaks_of(kc, "pthread_create(&th, 0, hold, 0); while (!started) usleep(100);")
    assert (blocks, nbytes, leaks) == (0, 0, [])
    assert leaks_of(kc, "int meanwhile = 1;")[:2] == (0, 0)
    assert leaks_of(kc, "stop_it = 1; pthread_join(th, 0);")[:2] == (0, 0)
    # a thread that loses its block and ends: a leak, in the thread's function
    code = ("void *lose_it(void *arg) { malloc(55); return 0; }\n"
            "pthread_t t2; pthread_create(&t2, 0, lose_it, 0); pthread_join(t2, 0);")
    blocks, nbytes, leaks, _ = leaks_of(kc, code)
    assert (blocks, nbytes) == (1, 55)
    assert (leaks[0]["function"], leaks[0]["line"]) == ("lose_it", 1)


def test_libc_blocks_held_by_libc_are_not_leaks_and_lost_ones_are(kc):
    run_ok(kc, HEADERS)
    # fopen's FILE stays on libc's list of open files; printf's buffer on stdout
    assert leaks_of(kc, "FILE *f = fopen(\"/proc/self/maps\", \"r\"); f = 0; printf(\"x\\n\");")[:2] == (0, 0)
    blocks, nbytes, leaks, _ = leaks_of(kc, "strdup(\"hello\");")
    assert (blocks, nbytes) == (1, 6)
    assert "strdup" in leaks[0]["function"] and leaks[0]["cell"] is None


def test_leaks_off_and_on(kc):
    run_ok(kc, HEADERS)
    msg_id = kc.execute("%leaks off\nmalloc(12);")
    reply = shell_reply(kc, msg_id, timeout=20)
    collect_rest(kc, msg_id)
    ck = reply["metadata"]["ckernel"]
    assert "leaked_blocks" not in ck["measure"] and "leaks" not in ck
    # on again: the block lost while off is found now, once
    assert leaks_of(kc, "%leaks on\nint x = 1;")[:2] == (1, 12)
    msg_id = kc.execute("%leaks sometimes")
    reply = shell_reply(kc, msg_id, timeout=20)
    collect_rest(kc, msg_id)
    assert reply["content"]["status"] == "error" and "%leaks takes off or on" in reply["content"]["evalue"]


def measure_line_and_figures(kc, code):
    msg_id = kc.execute(code, allow_stdin=False)
    reply = shell_reply(kc, msg_id, timeout=30)
    _, msgs = collect_rest(kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]
    lines = measure_lines(msgs)
    return reply["metadata"]["ckernel"], lines[0]["content"]["data"]["text/plain"]


def test_what_cannot_be_checked_says_so(kc):
    run_ok(kc, "%lib pthread\n" + HEADERS + "\n#include <pthread.h>\n#include <signal.h>\n#include <unistd.h>")
    # more than the scan reads (32 MiB): not checked, and no figure
    ck, text = measure_line_and_figures(kc, "char *big = malloc(40 << 20);")
    assert "leaks not checked (over 32 MiB to read)" in text, text
    assert "leaked_blocks" not in ck["measure"]
    ck, text = measure_line_and_figures(kc, "free(big); big = 0; malloc(7);")
    assert ck["measure"]["leaked_blocks"] == 1 and "leaked 1 block / 7 B" in text, text
    # a thread that blocks the scan's signal cannot be stopped: not checked
    run_ok(kc, "volatile int stop_deaf, deaf_ready;\n"
               "void *deaf(void *arg) {\n"
               "    sigset_t all; sigfillset(&all); pthread_sigmask(SIG_BLOCK, &all, 0);\n"
               "    deaf_ready = 1;\n"
               "    while (!stop_deaf) usleep(1000);\n"
               "    return 0;\n"
               "}\n"
               "pthread_t deaf_thread;")
    ck, text = measure_line_and_figures(
        kc, "pthread_create(&deaf_thread, 0, deaf, 0); while (!deaf_ready) usleep(100); malloc(9);")
    assert "leaks not checked (a thread did not stop: it blocks the signal that stops it)" in text, text
    assert "leaked_blocks" not in ck["measure"]
    ck, text = measure_line_and_figures(kc, "stop_deaf = 1; pthread_join(deaf_thread, 0);")
    assert ck["measure"]["leaked_blocks"] == 1 and ck["leaks"][0]["bytes"] == 9, (ck, text)


def test_memory_a_cell_made_unreadable_is_skipped_not_a_crash(kc):
    run_ok(kc, HEADERS + "\n#include <sys/mman.h>")
    # a block and a page of a global made PROT_NONE: the scan reads past them
    code = ("void *block; static char page_buf[3 * 4096]; char *pg;\n"
            "posix_memalign(&block, 4096, 8192); memset(block, 0, 8192);\n"
            "mprotect(block, 8192, PROT_NONE);\n"
            "pg = (char *)(((unsigned long)page_buf + 4095) & ~4095ul);\n"
            "mprotect(pg, 4096, PROT_NONE);")
    assert leaks_of(kc, code)[:2] == (0, 0)
    assert leaks_of(kc, "malloc(13);")[:2] == (1, 13)
    assert leaks_of(kc, "mprotect(block, 8192, PROT_READ | PROT_WRITE); mprotect(pg, 4096, PROT_READ | PROT_WRITE);"
                        "free(block); block = 0;")[:2] == (0, 0)
    # a crash afterwards is still the cell's crash, reported as before
    msg_id = kc.execute("int *bad = 0; *bad = 1;")
    reply = shell_reply(kc, msg_id, timeout=20)
    collect_rest(kc, msg_id)
    assert reply["content"]["status"] == "error" and "SIGSEGV" in reply["content"]["evalue"]


def test_lines_of_leaks_from_cells_compiled_by_gcc(kc):
    run_ok(kc, HEADERS)
    run_ok(kc, "%%cc gcc\n"
               "void *gmake(int n) {\n"
               "    int pad = n * 2;\n"
               "    void *p = malloc(n + pad);\n"
               "    return p;\n"
               "}")
    run_ok(kc, "void *tmake(int n) {\n"
               "\n"
               "    return malloc(n);\n"
               "}")
    blocks, nbytes, leaks, _ = leaks_of(kc, "gmake(4);")
    assert (blocks, nbytes) == (1, 12)
    assert (leaks[0]["function"], leaks[0]["line"]) == ("gmake", 4)
    # from a gcc cell: the tcc cell's line is tcc's, the gcc cell's gcc's
    blocks, nbytes, leaks, _ = leaks_of(kc, "%%cc gcc\ntmake(5); gmake(1);")
    assert sorted((l["function"], l["bytes"], l["line"]) for l in leaks) == [("gmake", 3, 4), ("tmake", 5, 3)]
