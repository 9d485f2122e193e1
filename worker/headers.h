/* headers.h - the session's system headers, preprocessed once.
 *
 * Parsing <stdio.h> and friends costs milliseconds a cell; their
 * preprocessed text, with the macros they define kept in order (tcc -E
 * -dD), parses ten times faster. headers_text returns that text for a run
 * of directives (system #includes and the #defines among them), computed by
 * running the tcc binary the first time a run is seen and cached after.
 *
 * Lives in the worker. The returned text is owned by the cache and stays
 * valid until the next call. */
#ifndef CK_HEADERS_H
#define CK_HEADERS_H

/* Preprocessed DIRECTIVES compiled with OPTIONS, or NULL when they cannot
 * be preprocessed (the caller then compiles the directives as they are,
 * and the compiler reports what is wrong). */
const char *headers_text(const char *directives, const char *options);

#endif
