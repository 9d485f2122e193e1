/* checked_units.h - the units of `%%check` cells, kept for their lines.
 *
 * A crash or MemoryError in a function an earlier checked cell defined
 * names its line only if that cell's unit can be compiled again, with
 * -g, to the same code: the unit (the preprocessed text the cell was
 * compiled from) is kept for the last few checked cells that defined a
 * function. Lives in the worker; session.c keeps and asks. */
#ifndef CK_CHECKED_UNITS_H
#define CK_CHECKED_UNITS_H

/* The cell COUNT, compiled from SRC with OPTIONS, defined a function:
 * keep SRC if OPTIONS asks for -b (%%check). */
void checked_units_keep(int count, const char *src, const char *options);
/* The line of NAME + OFF in the kept unit of cell COUNT, or 0. */
int checked_units_line(int count, const char *name, unsigned long off);

#endif
