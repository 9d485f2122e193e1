"""The Jupyter protocol conformance suite (python3-jupyter-kernel-test 0.4.5)
run against this kernel.

The suite checks every message against the 5.x schema, wants all iopub
output and the idle status within about 100 ms of the execute_reply, and
wants exactly one `error` output (nothing on stderr) for a failed cell.
"""
import jupyter_kernel_test as jkt  # not `from ... import KernelTests`:
# pytest would collect the base class too and run it against python3.

from . import conftest  # noqa: F401  (sets JUPYTER_PATH before any kernel starts)


class CKernelTests(jkt.KernelTests):
    kernel_name = "c"
    language_name = "c"
    file_extension = ".c"

    code_hello_world = '#include <stdio.h>\nprintf("hello, world\\n");'
    code_stderr = '#include <stdio.h>\nfprintf(stderr, "oops\\n");'
    # A plain syntax error: tcc gives an error and no warning.
    code_generate_error = "int broken = ;"

    complete_code_samples = [
        "int x = 1;",
        "int f(void) { return 1; }",
        "#include <stdio.h>",
        'printf("%d\\n", 1);',
        "struct point { int x, y; };",
        "if (1) (void)0; else (void)1;",
    ]
    incomplete_code_samples = [
        "int f(void) {",
        "/* open comment",
        'printf("%d\\n",',
        "for (int i = 0; i < 3; i++)",
        "int a[] = {1, 2,",
    ]
    invalid_code_samples = [
        "int x = 1; }",
        "f(]",
        "int a[3) ;",
    ]

    # The session of this class's kernel includes these from the start, so
    # that completion and inspection of libc names do not depend on the
    # order in which the suite runs its tests.
    setup_code = "#include <stdio.h>\n#include <stdlib.h>"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        msg_id = cls.kc.execute(cls.setup_code, allow_stdin=False)
        reply = conftest.shell_reply(cls.kc, msg_id)
        assert reply["content"]["status"] == "ok", reply["content"]
        conftest.iopub_until_idle(cls.kc, msg_id)

    # Issue 3: a trailing expression without ';' shows its value and type.
    code_execute_result = [
        {"code": "6*7", "result": "(int) 42"},
        {"code": "0.5", "result": "(double) 0.5"},
        {"code": '"hello"', "result": '(char *) "hello"'},
        {"code": "sizeof(struct { int a; double b; char c; })", "result": "(size_t) 24"},
        {"code": "(_Bool)1", "result": "(bool) true"},
        {"code": "'a'", "result": "(int) 97"},
        {"code": "-3L", "result": "(long) -3"},
        {"code": "(char)65", "result": "(char) 'A' (65)"},
        {"code": "NULL", "result": "(void *) NULL"},
    ]

    completion_samples = [
        {"text": "whi", "matches": {"while"}},
        {"text": "unsig", "matches": {"unsigned"}},
        {"text": "pri", "matches": {"printf"}},
        {"text": "EXIT_", "matches": {"EXIT_FAILURE", "EXIT_SUCCESS"}},
        {"text": "int zq_local = 1;\nzq_lo", "matches": {"zq_local"}},
    ]

    code_inspect_sample = "printf"

    # History: the cells of code_execute_result; a glob, as the messaging
    # spec says: `?` one character, `*` any run. Only "6*7" matches it.
    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "6?7"
