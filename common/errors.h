/* errors.h - the names (ename) of every error a cell or a request can end
 * with, and what each means: one table, used by both processes. The README's
 * "Errors" table lists the same rows (tests/notebooks/test_docs.py checks).
 * Adding an error is one row here. */
#ifndef CK_ERRORS_H
#define CK_ERRORS_H

#define CK_ERROR_TABLE(X) \
    X(CK_COMPILE_ERROR, "CompileError", "the cell does not compile (the first error, with its cell line)") \
    X(CK_MAGIC_ERROR, "MagicError", "a `%` line is unknown or malformed, or asks what a cell cannot do") \
    X(CK_LINK_ERROR, "LinkError", "`%lib` names a library that cannot be loaded") \
    X(CK_LIMIT_ERROR, "LimitError", "a limit asked for is above the administrator's ceiling") \
    X(CK_OS_ERROR, "OSError", "`%%file` cannot write its file") \
    X(CK_OUT_OF_MEMORY, "OutOfMemoryError", "the worker ran out of memory while reading the cell") \
    X(CK_CRASH, "Crash", "a signal ended the cell (segmentation fault, abort, ...): where, and what was lost") \
    X(CK_EXIT, "Exit", "the cell called `exit`, or the process running it exited") \
    X(CK_KEYBOARD_INTERRUPT, "KeyboardInterrupt", "the user interrupted the cell") \
    X(CK_TIMEOUT_ERROR, "TimeoutError", "the cell ran longer than `%timeout`") \
    X(CK_CPU_TIME_ERROR, "CPUTimeError", "the cell used more CPU time than `%cpu` or the ceiling") \
    X(CK_PROCESS_LIMIT_ERROR, "ProcessLimitError", "a `fork` failed at the process limit") \
    X(CK_CHECK_FAILED, "CheckFailed", "an `nb_check` claim did not hold (with the figures compared)") \
    X(CK_HEAP_CORRUPTION, "HeapCorruption", "the cell wrote past a heap block (found by its guard bytes)") \
    X(CK_MEMORY_ERROR, "MemoryError", "a `%%check` cell's memory bug: its kind, address, region and cell lines") \
    X(CK_ESCAPE_ERROR, "EscapeError", "the escape analysis of `%%escape` could not be done (the analyser crashed, hung or is missing)") \
    X(CK_WORKER_ERROR, "WorkerError", "the worker process could not be started") \
    X(CK_KERNEL_ERROR, "KernelError", "a request the kernel cannot serve where it came (e.g. execute on control)") \
    X(CK_UNKNOWN_MESSAGE_TYPE, "UnknownMessageType", "a `*_request` of a type the kernel does not know")

#define CK_ERROR_ENUM(id, name, meaning) id,
typedef enum { CK_ERROR_TABLE(CK_ERROR_ENUM) CK_ERROR_COUNT } ck_error;
#undef CK_ERROR_ENUM

/* The ename of E, e.g. "CompileError". */
const char *ck_ename(ck_error e);
/* What E means, one line (the README's table). */
const char *ck_error_meaning(ck_error e);

#endif
