"""Issue 11, findings 1 and 3: cells' memory is protected as a linked
program's (code read+execute, data and bss read-write, string literals
read-only), and nb_where names each part from the unit's sections, never
from the bytes it finds there."""
import re

from conftest import KILL_THE_SNAPSHOT, assert_state, error_text, errors, run, run_ok


def crash_text(kc, code):
    reply, msgs = run(kc, code, timeout=20)
    assert reply["status"] == "error", f"did not crash: {reply}"
    errs = errors(msgs)
    assert len(errs) == 1, errs
    return error_text(errs[0])


def test_writing_a_string_literal_crashes_naming_the_literal(state_kernel):
    km, kc = state_kernel
    run_ok(kc, 'char *lit_abc = "abc";')
    text = crash_text(kc, "g_state = 99;\nlit_abc[0] = 'X';")
    assert "Segmentation fault" in text, text
    assert re.search(r"(?i)write", text), text
    assert re.search(r"read-only data: a string literal .*of cell \d+", text), text
    assert_state(kc)
    assert run_ok(kc, 'printf("%s\\n", lit_abc);') == "abc\n"


def test_writing_a_const_global_crashes_naming_it(state_kernel):
    """A const object with an initializer is on read-only pages, as in a
    linked program (tcc itself has no .rodata: the layout moves it)."""
    km, kc = state_kernel
    run_ok(kc, "const int limit_c = 5;\nstatic const char name_c[] = \"hello\";\n"
               "const double table_c[3] = {1.5, 2.5,\n  3.5};")
    out = run_ok(kc, "nb_where(&limit_c);\nnb_where(name_c + 1);\nnb_where(&table_c[1]);")
    assert re.search(r"read-only data: limit_c \(const\)", out), out
    assert re.search(r"read-only data: name_c \(const\) \(\+1\)", out), out
    assert re.search(r"read-only data: table_c \(const\) \(\+8\)", out), out
    text = crash_text(kc, "g_state = 99;\n*(int *)&limit_c = 6;")
    assert re.search(r"write of .*read-only data: the const global 'limit_c'", text), text
    assert_state(kc)
    text = crash_text(kc, "((char *)name_c)[0] = 'J';")
    assert "the const global 'name_c'" in text, text
    assert run_ok(kc, 'printf("%d %s %g\\n", limit_c, name_c, table_c[2]);') == "5 hello 3.5\n"


def test_what_is_not_a_const_object_stays_writable(state_kernel):
    """A pointer to const is writable; so is a const object holding an
    address (the layout moves only those without relocations: README)."""
    km, kc = state_kernel
    run_ok(kc, 'const char *motto_c = "one";\nchar buf_c[8];\nchar *const at_c = buf_c;')
    assert run_ok(kc, 'motto_c = "two";\nprintf("%s\\n", motto_c);') == "two\n"
    assert re.search(r"global data: at_c", run_ok(kc, "nb_where(&at_c);"))


def test_a_struct_with_a_const_member_stays_writable(state_kernel):
    """Only the object's own qualifier makes it read-only: a const member,
    typeof(const int) or a pointer to const does not."""
    km, kc = state_kernel
    run_ok(kc, "struct { const int id; int hits; } rec_c = {1, 0};")
    assert run_ok(kc, 'rec_c.hits++;\nprintf("%d %d\\n", rec_c.id, rec_c.hits);') == "1 1\n"


def test_a_const_global_is_initialised_as_c_has_it(state_kernel):
    """Its initializer must be a constant expression, as gcc says too; a
    redefinition gives it new storage, with a note."""
    km, kc = state_kernel
    reply, msgs = run(kc, "int seven_c(void) { return 7; }\nconst int from_call_c = seven_c();")
    assert reply["status"] == "error" and reply["ename"] == "CompileError", reply
    assert "initializer element is not constant" in reply["evalue"], reply
    run_ok(kc, "const int again_c = 1;")
    run_ok(kc, "const int again_c = 2;")
    assert run_ok(kc, 'printf("%d\\n", again_c);') == "2\n"


def test_writing_code_crashes(state_kernel):
    km, kc = state_kernel
    text = crash_text(kc, "g_state = 99;\n*(volatile char *)twice = 0;")
    assert "Segmentation fault" in text and "twice" in text, text
    assert_state(kc)


def test_globals_and_statics_stay_writable(state_kernel):
    km, kc = state_kernel
    out = run_ok(kc, "int counter_w = 5;\n"
                     "int bump_w(void) { static int calls; return ++calls; }\n"
                     "counter_w++; bump_w();\n"
                     'printf("%d %d\\n", counter_w, bump_w());')
    assert out == "6 2\n", out


def test_redefining_a_function_patches_read_only_code(state_kernel):
    km, kc = state_kernel
    run_ok(kc, "int leaf_p(void) { return 1; }\nint calls_leaf_p(void) { return 10 * leaf_p(); }")
    run_ok(kc, "int leaf_p(void) { return 4; }")
    assert run_ok(kc, 'printf("%d\\n", calls_leaf_p());') == "40\n"


def where(kc, code):
    return run_ok(kc, code)


def test_nb_where_says_a_literal_is_read_only(state_kernel):
    km, kc = state_kernel
    out = where(kc, 'const char *lit_w = "hello";\nnb_where(lit_w);')
    assert re.search(r"read-only data: a string literal .*of cell \d+", out), out


def test_a_writable_static_holding_text_is_data(state_kernel):
    """Finding 3: the bytes "id-0003" do not make a buffer read-only."""
    km, kc = state_kernel
    out = where(kc, "void id_buf(void) { static char buf[16]; strcpy(buf, \"id-0003\"); nb_where(buf); }\n"
                    "id_buf();")
    assert out.startswith("buf = 0x") and "read-only" not in out, out
    assert re.search(r"global data.*: buf \(a static of cell \d+\), of 16 B", out), out
    out = where(kc, 'static char sbuf[16] = "id-0003";\nnb_where(sbuf);')
    assert re.search(r"global data: sbuf, of 16 B", out), out


def test_nb_where_names_code_and_heap(state_kernel):
    km, kc = state_kernel
    out = where(kc, "nb_where(twice);\nnb_where(g_heap);")
    assert re.search(r"twice = 0x[0-9a-f]+: code: function twice", out), out
    assert re.search(r"g_heap = 0x[0-9a-f]+: heap: a live block of 16 B", out), out


# --------------------------------------------------------------------------
# Finding 2: heap corruption is caught in the cell that made it, which ends
# as a crash does: the session goes back to before it, nothing is lost.
# --------------------------------------------------------------------------

def heap_error(kc, code):
    reply, msgs = run(kc, code, timeout=20)
    assert reply["status"] == "error", f"not caught: {reply}"
    errs = errors(msgs)
    assert len(errs) == 1 and errs[0]["ename"] == "HeapCorruption", errs
    return error_text(errs[0])


def test_overflow_found_at_free_names_the_block_and_rolls_back(state_kernel):
    km, kc = state_kernel
    text = heap_error(kc, "g_state = 99;\nchar *ov_p = malloc(16);\nmemset(ov_p, 0, 64);\nfree(ov_p);")
    assert re.search(r"a write past the end of the block of 16 B at 0x[0-9a-f]+, allocated in "
                     r"the cell's statements: at least 16 bytes after its end were overwritten "
                     r"\(found when it was freed\)", text), text
    assert re.search(r"The block was allocated at:\n\s+the cell's statements \+ \d+, line 2 of this cell",
                     text), text
    assert "went back to the state from before this cell" in text, text
    assert_state(kc)
    # two cells later the session is still whole (the issue lost it here)
    assert_state(kc)
    assert run_ok(kc, 'char *fine = malloc(16); memset(fine, 1, 16); free(fine); printf("ok\\n");') == "ok\n"


def test_overflow_found_when_the_cell_ends(state_kernel):
    km, kc = state_kernel
    run_ok(kc, "char *late_p;\nchar *make_late(void) { return malloc(24); }\nlate_p = make_late();")
    text = heap_error(kc, "g_state = 99;\nlate_p[24] = 1; late_p[26] = 2;")
    assert re.search(r"the block of 24 B at 0x[0-9a-f]+, allocated in make_late.*: 3 bytes after its end "
                     r"were overwritten \(found when the cell ended\)", text), text
    assert_state(kc)
    assert run_ok(kc, 'late_p[23] = 5; printf("%d\\n", late_p[23]);') == "5\n"


def test_double_free_is_caught(state_kernel):
    km, kc = state_kernel
    text = heap_error(kc, "g_state = 99;\nchar *df_p = malloc(8);\nfree(df_p);\nfree(df_p);")
    assert re.search(r"free\(\) of a block already freed \(double free\): the block of 8 B", text), text
    assert_state(kc)


def test_allocator_edges_still_work(state_kernel):
    km, kc = state_kernel
    out = run_ok(kc, r"""
void *al = aligned_alloc(64, 100); memset(al, 1, 100);
al = realloc(al, 300); memset(al, 2, 300); free(al);
char *grow = malloc(10); grow = realloc(grow, 100000); grow = realloc(grow, 5); free(grow);
void *pm; posix_memalign(&pm, 4096, 10);
char *zero = calloc(4, 8);
printf("%d %d %d\n", (int)((long)pm % 4096), zero[31], (int)((long)al % 16));
free(pm); free(zero);
char *dup_s = strdup("hello"); printf("%s\n", dup_s); free(dup_s);
""")
    assert out.startswith("0 0 0\nhello\n"), out


def test_losing_worker_and_snapshot_is_said_plainly(fresh_kernel):
    """The cell kills its snapshot, then crashes: nothing can take over. The
    cell's error and the next cell both say the session was lost."""
    km, kc = fresh_kernel
    run_ok(kc, "#include <stdio.h>\n#include <stdlib.h>\n#include <dirent.h>\n#include <signal.h>\n"
               "#include <unistd.h>\nint kept_x = 5;")
    reply, msgs = run(kc, KILL_THE_SNAPSHOT + "*(volatile int *)0 = 1;\n", timeout=20)
    assert reply["status"] == "error"
    text = error_text(errors(msgs)[0])
    assert "worker and its snapshot were both lost" in text and "is lost" in text, text
    reply, msgs = run(kc, 'printf("after\\n");', timeout=20)
    assert "started afresh" in "".join(m["content"]["text"] for m in msgs
                                       if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
