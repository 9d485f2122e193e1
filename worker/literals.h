/* literals.h - compound literals in a global's initializer get static
 * storage, as C gives them outside any function body (C11 6.5.2.5p5).
 *
 * A cell's globals get their value when the cell runs, in its run
 * function (unit.c), where `int *p = (int[]){ 1, 2, 3 };` would make the
 * literal an automatic object of the cell's statements, dead when the cell
 * ends. literals_hoist turns each compound literal of a global's
 * initializer into a static object of the unit (an ITEM_LITERAL item just
 * before the global), and the initializer names that object instead.
 * Literals in a statement of the cell stay automatic: the statements are a
 * block, as main's body is. So do those in an operand of sizeof, typeof or
 * _Alignof (never evaluated) and in a statement expression `({ ... })`.
 *
 * Ownership: the new items' strings are the cell's (cell_free). */
#ifndef CK_LITERALS_H
#define CK_LITERALS_H

#include "cell.h"

/* The prefix of the static objects' names: __ck_lit<k>_<global>. */
#define LITERAL_PREFIX "__ck_lit"

/* The file name (#line) of the copy of a literal whose type only its
 * initializer completes, `(int[]){ 1, 2 }`, made for __typeof__: the
 * compiler's warnings there are said again where the literal is
 * evaluated, so diag.c drops them; its errors are the cell line's. */
#define LITERAL_COPY_FILE "cell-copy"

/* Rewrite every ITEM_GLOBAL of C that has compound literals in its
 * initializer. 0, or -1 when out of memory. */
int literals_hoist(cell *c);

/* Whether NAME is one of those objects; *GLOBAL then gets the name of the
 * global whose initializer held it (into NAME). */
int literals_is_object(const char *name, const char **global);

#endif
