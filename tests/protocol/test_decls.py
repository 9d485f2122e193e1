"""Each cell is compiled with only the header declarations it uses
(worker/decls.c), and again with all of them when that first try says
anything: metadata.ckernel.timing.compiles tells which happened. Common
cells must need one compile; the second try must be invisible to the user,
whatever the first one said."""
import pytest

from .conftest import errors, iopub_until_idle, shell_reply, stderr_text, stdout_text

HEADERS = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <stdint.h>\n#include <time.h>"


def execute(kc, code):
    """(reply message with metadata, iopub messages)."""
    msg_id = kc.execute(code, allow_stdin=False)
    return shell_reply(kc, msg_id, timeout=20), iopub_until_idle(kc, msg_id, timeout=20)


def compiles(reply):
    return reply["metadata"]["ckernel"]["timing"]["compiles"]


@pytest.fixture(scope="module")
def session(shared_kernel):
    _, kc = shared_kernel
    reply, _ = execute(kc, HEADERS + "\nint n;")
    assert reply["content"]["status"] == "ok"
    return kc


@pytest.mark.parametrize("code", [
    "n++;",
    'printf("%d\\n", n);',
    'char *p = malloc(16); strcpy(p, "hi"); puts(p); free(p);',
    "time_t t = time(0); struct tm *tm = localtime(&t); printf(\"%d\\n\", tm->tm_year > 100);",
    "uint64_t big = UINT64_MAX; big",
    'fprintf(stderr, "%d\\n", EXIT_FAILURE);',
    'FILE *f = fopen("/dev/null", "w"); fputs("x", f); fclose(f);',
    "int cmp_ints(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }",
    "int xs[3] = {3, 1, 2}; qsort(xs, 3, sizeof *xs, cmp_ints); xs[0]",
    "#define SQUARE(x) ((x) * (x))\nSQUARE(n + 1)",
    "struct point { int x, y; };\nstruct point pt = {1, 2}; pt.y",
    "nb_where(&n);",
    "#include <pthread.h>\npthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;",
    "pthread_mutex_lock(&lock); pthread_mutex_unlock(&lock);",
    # earlier cells' definitions: only those a cell names go into its unit,
    # with what they name (a type, what a macro expands to)
    "int table_m[3] = {1, 2, 3};\nint get_m(int i) { return table_m[i]; }",
    "#define GET_M(i) table_m[i]",
    "GET_M(1) + get_m(2)",
    "struct point q = {3, 4}; q.x + pt.x",
])
def test_common_cells_compile_once(session, code):
    reply, msgs = execute(session, code)
    assert reply["content"]["status"] == "ok", (code, errors(msgs))
    assert compiles(reply) == 1, f"{code!r} needed a second compile: decls.c missed a declaration"


def test_a_wrong_guess_costs_a_compile_and_shows_nothing(session):
    # the function's name is made by the preprocessor: no token names it,
    # so the first try lacks strlen and warns; the user sees none of that
    reply, msgs = execute(session, '#define GLUE(a, b) a##b\nprintf("%zu\\n", GLUE(str, len)("abcd"));')
    assert reply["content"]["status"] == "ok", errors(msgs)
    assert compiles(reply) == 2
    assert stdout_text(msgs) == "4\n"
    assert "warning" not in stderr_text(msgs), stderr_text(msgs)


def test_a_real_warning_is_shown_once(session):
    reply, msgs = execute(session, "int *wp = 1234;")
    assert reply["content"]["status"] == "ok"
    assert compiles(reply) == 2
    assert stderr_text(msgs).count("warning") == 1, stderr_text(msgs)


def test_a_compile_error_is_reported_once(session):
    reply, msgs = execute(session, "int broken = ;")
    assert reply["content"]["status"] == "error"
    assert compiles(reply) == 2
    tb = "\n".join(reply["content"]["traceback"])
    assert tb.count("line 1:") == 1, tb
