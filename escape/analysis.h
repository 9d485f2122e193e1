/* analysis.h - the escape analysis of one translation unit: for every
 * function it defines, where the addresses of its locals, its pointer
 * parameters and its allocations go.
 *
 * Flow-insensitive for where pointers go (every store and call is taken to
 * happen), flow-sensitive (paths.c) for whether an allocation is freed on
 * every path. Interprocedural: each function with a body gets a summary of
 * what it does with each pointer parameter, used at its calls, to a fixed
 * point (recursion included). What cannot be seen (a function without a
 * body, a call through a pointer) makes a verdict "may escape", never
 * "does not escape".
 *
 * Ownership: analysis_run returns a jansson array the caller owns. */
#ifndef CK_ESCAPE_ANALYSIS_H
#define CK_ESCAPE_ANALYSIS_H

#include <jansson.h>
#include <clang-c/Index.h>

/* The facts about the functions of TU whose presumed file is "cell" (the
 * cell's lines, by #line), as [{"function","name","kind","line","verdict",
 * "detail","source":"ckernel"}]. Functions of files "cell N" (earlier
 * cells) are analysed for their summaries only. */
json_t *analysis_run(CXTranslationUnit tu);

/* Where a cell line is: the function of REPORT_FILE around LINE, or NULL
 * (valid after analysis_run, until the next). */
const char *analysis_function_at(int line);

#endif
