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

    # jupyter_kernel_test runs its history test only when code_execute_result
    # is set (it executes those cells and looks them up), and it then also
    # demands an execute_result for them. Trailing expressions come in a
    # later issue, so test_history below runs the same checks on cells of
    # our own instead.
    supported_history_operations = ("tail", "range", "search")
    history_cells = ["for (int hist_i = 0; hist_i < 1; hist_i++) ;"]
    # A glob, as the messaging spec says: `?` one character, `*` any run.
    code_history_pattern = "for (int hist_i = ?; *"

    def test_history(self):
        saved = self.code_execute_result
        try:
            self.code_execute_result = [{"code": c} for c in self.history_cells]
            super().test_history()
        finally:
            self.code_execute_result = saved
