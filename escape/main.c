/* escape/main.c - ckernel-escape, the escape analyser: a process of its
 * own, so that libclang is never loaded into a student's worker.
 *
 *   ckernel-escape UNIT.c [--no-tools]
 *
 * UNIT.c is the translation unit the worker builds for a cell (the cell's
 * lines under `#line N "cell"`, earlier cells' functions under "cell N").
 * Prints one JSON object on stdout:
 *   {"facts": [{function, name, kind, line, verdict, detail, source}],
 *    "tools": [{tool, status, ms}], "parse_ms", "analysis_ms" (wall),
 *    "parse_cpu_ms", "analysis_cpu_ms" (this process's CPU time),
 *    "errors": ["line N: message", ...]}
 * Exit status 0, or 2 when the unit cannot be read or parsed at all. */
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include "analysis.h"
#include "ast.h"
#include "tools.h"

static double ms_of(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static double now_ms(void) { return ms_of(CLOCK_MONOTONIC); }
/* CPU time: what a loaded machine does not inflate (make bench reads it) */
static double cpu_ms(void) { return ms_of(CLOCK_PROCESS_CPUTIME_ID); }

/* The parser's errors on the cell's lines (a cell that does not compile
 * gets an analysis of what could be parsed). */
static json_t *cell_errors(CXTranslationUnit tu) {
    json_t *errors = json_array();
    unsigned n = clang_getNumDiagnostics(tu);
    for (unsigned i = 0; i < n && json_array_size(errors) < 10; i++) {
        CXDiagnostic d = clang_getDiagnostic(tu, i);
        if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
            CXString file, msg = clang_getDiagnosticSpelling(d);
            unsigned line = 0;
            clang_getPresumedLocation(clang_getDiagnosticLocation(d), &file, &line, NULL);
            if (!strcmp(clang_getCString(file), "cell"))
                json_array_append_new(errors, json_sprintf("line %u: %s", line, clang_getCString(msg)));
            clang_disposeString(file);
            clang_disposeString(msg);
        }
        clang_disposeDiagnostic(d);
    }
    return errors;
}

/* Parse, analyse, run the compilers, print the answer; main's exit status. */
static int analyse(const char *unit, int with_tools) {
    char *dir_copy = strdup(unit);
    double t0 = now_ms(), c0 = cpu_ms();
    CXIndex index = clang_createIndex(0, 0);
    const char *args[] = { "-x", "c", "-std=gnu11", "-Wno-everything", "-ferror-limit=0",
                           "-fbracket-depth=100000" };
    CXTranslationUnit tu = NULL;
    enum CXErrorCode rc = clang_parseTranslationUnit2(index, unit, args, sizeof args / sizeof *args,
                                                      NULL, 0, CXTranslationUnit_KeepGoing, &tu);
    if (rc != CXError_Success || !tu) {
        fprintf(stderr, "ckernel-escape: cannot parse %s (libclang error %d)\n", unit, (int)rc);
        return 2;
    }
    double t1 = now_ms(), c1 = cpu_ms();
    json_t *facts = analysis_run(tu);
    double t2 = now_ms(), c2 = cpu_ms();
    /* the compilers after ckernel's own analysis, not beside it: on a
     * 2-core machine they would slow it, and its time is what is measured */
    if (with_tools) tools_start(unit, dirname(dir_copy));
    json_t *status = json_array();
    if (with_tools) tools_finish(facts, status, 20000);
    json_t *out = json_pack("{s:o, s:o, s:f, s:f, s:f, s:f, s:o}", "facts", facts, "tools", status,
                            "parse_ms", t1 - t0, "analysis_ms", t2 - t1, "parse_cpu_ms", c1 - c0,
                            "analysis_cpu_ms", c2 - c1, "errors", cell_errors(tu));
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    clang_disposeTranslationUnit(tu);
    clang_disposeIndex(index);
    free(dir_copy);
    return 0;
}

typedef struct { const char *unit; int with_tools, status; } job;

static void *run_job(void *arg) {
    job *j = arg;
    j->status = analyse(j->unit, j->with_tools);
    return NULL;
}

int main(int argc, char **argv) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);          /* the worker gone: so is the analysis */
    if (argc < 2) {
        fprintf(stderr, "usage: ckernel-escape UNIT.c [--no-tools]\n");
        return 2;
    }
    job j = { argv[1], !(argc > 2 && !strcmp(argv[2], "--no-tools")), 2 };
    setenv("LIBCLANG_NOTHREADS", "1", 1);       /* libclang parses on our thread, with its stack */
    /* libclang and the analysis recurse as deep as the cell's expressions
     * nest: a thread with a stack that a 5000-term sum does not exhaust */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)512 << 20);
    pthread_t t;
    if (pthread_create(&t, &attr, run_job, &j) != 0) return analyse(j.unit, j.with_tools);
    pthread_join(t, NULL);
    return j.status;
}
