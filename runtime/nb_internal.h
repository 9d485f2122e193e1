/* nb_internal.h - what the worker reads back from the runtime after a cell.
 * Not seen by cells. */
#ifndef NB_INTERNAL_H
#define NB_INTERNAL_H

/* The text of the cell's trailing value (caller frees), or NULL. */
char *nb_internal_take_result(void);
/* 1 and *STATUS if the cell ran main(), else 0. */
int nb_internal_main_status(int *status);

#endif
