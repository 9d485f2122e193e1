/* replay.h - refuse a signed message seen before.
 *
 * A correctly signed message captured on the wire could be sent again and
 * would run again. jupyter_client's Session keeps the signatures it has
 * seen and rejects a duplicate; so does the kernel: a bounded set of the
 * last REPLAY_HISTORY signatures, the oldest forgotten first. */
#ifndef CK_REPLAY_H
#define CK_REPLAY_H

#include <stddef.h>

#define REPLAY_HISTORY 65536   /* jupyter_client's digest_history_size: 2**16 */

typedef struct replay_set replay_set;

/* A new, empty set (its memory is taken as it fills), or NULL. */
replay_set *replay_new(void);
void replay_free(replay_set *r);
/* 1 if SIG (LEN bytes) was seen among the last REPLAY_HISTORY; else 0, and
 * SIG is remembered. Signatures longer than 64 bytes are compared by their
 * first 64. -1 when out of memory (the caller drops the message). */
int replay_seen(replay_set *r, const unsigned char *sig, size_t len);

#endif
