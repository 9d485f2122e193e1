/* ast.h - what the escape analyser needs of libclang that its C API
 * does not say outright: the operator of an expression, a cursor's cell
 * line, the expression children of a node, types by kind.
 *
 * libclang 14 has no clang_getCursorBinaryOperatorKind (it came in 17), so
 * operators are read from the tokens of the function being analysed,
 * tokenized once (ast_tokens_*).
 *
 * Ownership: strings returned are malloc'd and the caller's, unless said. */
#ifndef CK_ESCAPE_AST_H
#define CK_ESCAPE_AST_H

#include <clang-c/Index.h>

typedef struct { unsigned offset; char *text; } ast_token;
typedef struct {
    CXTranslationUnit tu;
    ast_token *tok;
    size_t n;
} ast_tokens;

/* Tokens of CURSOR's extent (a function), sorted by offset. */
void ast_tokens_of(ast_tokens *t, CXTranslationUnit tu, CXCursor cursor);
void ast_tokens_free(ast_tokens *t);
/* The operator of a UnaryOperator, BinaryOperator or CompoundAssignOperator
 * E, e.g. "&", "*", "=", "+=", "++"; "" when it cannot be told. Borrowed. */
const char *ast_operator(const ast_tokens *t, CXCursor e);
/* Whether a ForStmt has a condition: for (;;) has none. */
int ast_for_has_condition(const ast_tokens *t, CXCursor stmt);
/* Whether COND is a constant that is not 0: while (1). */
int ast_always_true(CXCursor cond);
/* Whether a VarDecl has an initializer ("=" among its tokens after its name). */
int ast_has_init(const ast_tokens *t, CXCursor var);

/* The file offset of the start or end of CURSOR. */
unsigned ast_offset(CXCursor c, int end);
/* The presumed (#line-mapped) file name and line of CURSOR; *FILE borrowed
 * until the next call. */
int ast_line(CXCursor c, const char **file);
/* The children of C, up to MAX, in order; their number. */
unsigned ast_children(CXCursor c, CXCursor *out, unsigned max);
/* C without parentheses and implicit (unexposed) casts around it. */
CXCursor ast_strip(CXCursor c);
/* The spelling of C (name of a declaration or reference); caller frees. */
char *ast_spelling(CXCursor c);
/* The source text of C, shortened to MAX characters; caller frees. */
char *ast_text(const ast_tokens *t, CXCursor c, size_t max);

/* Kinds of type that can carry an address: pointers, arrays, structs, unions. */
int ast_type_carries_address(CXType t);
int ast_type_is_pointer(CXType t);
int ast_type_is_function_pointer(CXType t);
int ast_type_is_array(CXType t);
int ast_type_is_integer(CXType t);
/* Whether E is a null pointer constant (0, NULL, (void *)0). */
int ast_is_null_constant(CXCursor e);

#endif
