"""Issue 11, findings 1 and 3: cells' memory is protected as a linked
program's (code read+execute, data and bss read-write, string literals
read-only), and nb_where names each part from the unit's sections, never
from the bytes it finds there."""
import re

from conftest import assert_state, error_text, errors, run, run_ok


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
    assert out.startswith("buf = 0x") and "global data" in out and "read-only" not in out, out
    out = where(kc, 'static char sbuf[16] = "id-0003";\nnb_where(sbuf);')
    assert re.search(r"global data: sbuf, of 16 B", out), out


def test_nb_where_names_code_and_heap(state_kernel):
    km, kc = state_kernel
    out = where(kc, "nb_where(twice);\nnb_where(g_heap);")
    assert re.search(r"twice = 0x[0-9a-f]+: code: function twice", out), out
    assert re.search(r"g_heap = 0x[0-9a-f]+: heap: a live block of 16 B", out), out
