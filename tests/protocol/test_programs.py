"""Issue 20: every program `tcc -run` runs, a cell runs the same, and
compiling never loses the session.

Each test is one finding of the issue, as the smallest cell that showed
it, followed by a cell that must still work. The corpus of whole programs
(tests/programs/) runs in test_cells.py.
"""
import re
import time

from .conftest import control_reply, iopub_until_idle, shell_reply
from .test_cells import fails, ok

AFTER = ("int after_it = 41;", "after_it + 1", "(int) 42")


def still_works(kc):
    """The session goes on: a global defined now is there in the next cell."""
    ok(kc, AFTER[0])
    ok(kc, AFTER[1], result=AFTER[2])


# 3. UTF-8 identifiers are whole names --------------------------------------

def test_utf8_identifiers_in_the_first_cell(kc):
    ok(kc, '#include <stdio.h>\nint Lefèvre = 2;\nint café(int x) { return x + Lefèvre; }\n'
           'printf("%d\\n", café(40));', stdout="42\n")
    ok(kc, "Lefèvre", result="(int) 2")
    still_works(kc)


# 5. A compile error inside a function with a label --------------------------

def test_error_in_a_function_with_a_label_costs_only_the_cell(kc):
    fails(kc, "void f(void)\n{\nlab: ;\n  return 1 +;\n}", "CompileError")
    ok(kc, "int x = 1;")
    ok(kc, "x + 1", result="(int) 2")
    fails(kc, "int g(void) { again: goto again; return ; + }", "CompileError")
    still_works(kc)


# 7. Diagnostics: as tcc gives them -------------------------------------------

def test_warnings_before_an_error_are_shown(kc):
    c = fails(kc, "int f(void) { int *p = 5; return 0; }\nint g(void) { return 1 + ; }", "CompileError",
              re.compile(r"line 2: error: identifier expected"))
    assert "line 1: warning: assignment makes pointer from integer without a cast" in c.stderr, c
    still_works(kc)


def test_a_global_defined_twice_is_named_as_written(kc):
    c = fails(kc, "int xxx = 1;\nint xxx = 2;", "CompileError", re.compile(r"redefinition of 'xxx'"))
    assert "__ck" not in c.error["evalue"] + "".join(c.error["traceback"]), c
    still_works(kc)


def test_a_tentative_array_alone_compiles(kc):
    ok(kc, "int xxx[];")
    still_works(kc)


# 8. Options a cell cannot honour are refused ----------------------------------

def test_cflags_a_cell_cannot_honour_are_refused(kc):
    fails(kc, "%cflags -b\nint q;", "MagicError", re.compile(r"-b: not supported: bounds checking"))
    fails(kc, "%cflags --session -bt", "MagicError", re.compile(r"-bt: not supported"))
    fails(kc, "%cflags -o out.o\nint q;", "MagicError", re.compile(r"-o: not supported"))
    ok(kc, "%cflags -DX=3 -Wall\nX", result="(int) 3")
    still_works(kc)


# 4. A program's start and end happen within its cell --------------------------

STRUCTORS = r'''#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void a(void) { puts("ctor a"); }
void early(void) __attribute__((constructor(101)));
void early(void) { puts("ctor 101"); }
__attribute__((destructor)) static void d(void) { puts("dtor d"); }
__attribute__((destructor)) static void e(void) { puts("dtor e"); }
void bye(void) { puts("bye"); }
void bye2(int status, void *arg) { printf("on_exit %d %s\n", status, (char *)arg); }
int main(void) { atexit(bye); on_exit(bye2, "x"); puts("main"); exit(3); }
'''


def test_constructors_exit_handlers_and_destructors_run_in_their_cell(kc):
    ok(kc, STRUCTORS, stdout="ctor 101\nctor a\nmain\non_exit 3 x\nbye\ndtor e\ndtor d\n")
    # the handlers went with their program: an unrelated exit() runs none
    fails(kc, "exit(0);", "Exit")
    ok(kc, '#include <stdio.h>\nvoid h(void) { puts("h"); }\natexit(h);\nputs("cell");', stdout="cell\nh\n")
    ok(kc, 'puts("next");', stdout="next\n")
    still_works(kc)


# 1. main inside a preprocessor conditional ------------------------------------

def test_main_inside_a_conditional_is_called(kc):
    ok(kc, '#include <stdio.h>\n#if 1\nint main(void) { puts("hello from main"); return 0; }\n#endif',
       stdout="hello from main\n")
    ok(kc, '#include <stdio.h>\n#define SECOND\n#if defined FIRST\nint main(void) { puts("first"); return 0; }\n'
           '#elif defined SECOND\nint main(void) { puts("second"); return 0; }\n#endif', stdout="second\n")
    # what the branch defined is the session's, as if written without it
    ok(kc, "#ifndef LIMIT\n#define LIMIT 7\nint limit(void) { return LIMIT; }\n#endif")
    ok(kc, "limit() + LIMIT", result="(int) 14")
    ok(kc, "#ifdef LIMIT\nint from_branch = 5;\n#else\nint from_branch = 6;\n#endif\nfrom_branch",
       result="(int) 5")
    still_works(kc)


def test_main_from_an_included_c_file_is_called(kc, tmp_path):
    other = tmp_path / "other.c"
    ok(kc, f"%%file {other}\n#include <stdio.h>\nstatic int helper(void) {{ return 42; }}\n"
           "int main(void) { printf(\"%d\\n\", helper()); return 0; }",
       stdout=f"Wrote 112 bytes to {other}\n")
    ok(kc, f'/* the program is in another file */\n#include "{other}"', stdout="42\n")
    ok(kc, "helper() + 1", result="(int) 43")          # what it defined is the session's
    still_works(kc)


# 2. Definitions made by a macro ----------------------------------------------

def test_definitions_made_by_a_macro_are_definitions(kc):
    ok(kc, '#include <stdio.h>\n#define DEF(n) int f##n(void) { return n; }\nDEF(1)\nDEF(2)\n'
           'int main(void) { printf("%d\\n", f1() + f2()); return 0; }', stdout="3\n")
    ok(kc, "f1() + f2()", result="(int) 3")           # later cells see them
    ok(kc, "#define COUNTER(name) int name##_count = 10;\nCOUNTER(apples)")
    ok(kc, "apples_count++;")
    ok(kc, "apples_count", result="(int) 11")         # one storage, kept
    still_works(kc)


# 6. A compile that hangs ends with its cell -----------------------------------

# libtcc 0.9.27 deadlocks on this pragma (tcc -run hangs too)
HANGING_COMPILE = '#pragma comment(option, "-Wl,-z")\nint x;'


def wait_busy(kc, msg_id, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = kc.get_iopub_msg(timeout=timeout)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "busy"):
            return
    raise TimeoutError("the kernel never went busy")


def test_timeout_covers_a_hanging_compile(kc):
    ok(kc, "int keep = 5;")
    fails(kc, "%timeout 1\n" + HANGING_COMPILE, "TimeoutError", timeout=10)
    ok(kc, "%timeout 0\nkeep", result="(int) 5")
    still_works(kc)


def test_interrupt_stops_a_hanging_compile(kc):
    ok(kc, "int keep = 5;")
    msg_id = kc.execute(HANGING_COMPILE)
    wait_busy(kc, msg_id)
    msg = kc.session.msg("interrupt_request", {})
    kc.control_channel.send(msg)
    reply = shell_reply(kc, msg_id, timeout=10)["content"]
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    iopub_until_idle(kc, msg_id)
    assert control_reply(kc, msg["header"]["msg_id"])["content"]["status"] == "ok"
    ok(kc, "keep", result="(int) 5")
    still_works(kc)
