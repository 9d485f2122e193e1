/* tccfiles.h - libtcc's files in memory (see tccfiles.c). */
#ifndef CK_TCCFILES_H
#define CK_TCCFILES_H
#include <stddef.h>

/* The path of the unit's object, a file in memory: libtcc writes it
 * (tcc_output_file) and reads it (tcc_add_file). */
#define TCCFILES_OBJECT "ckernel-unit.o"

/* The object libtcc last wrote to TCCFILES_OBJECT (in the compiler's
 * memory, gone with scratch_reset), and its length in *LEN; NULL if none. */
const unsigned char *tccfiles_object(size_t *len);

/* Make TCCFILES_OBJECT read as DATA (LEN bytes, the caller's, kept alive
 * until libtcc has read it). */
void tccfiles_set_object(const unsigned char *data, size_t len);

/* PATH, a library libtcc opens for every unit, is read once a session. */
void tccfiles_cache_library(const char *path);

#endif
