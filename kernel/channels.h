/* channels.h - the kernel's ZeroMQ sockets and its one poll loop.
 *
 * The loop knows no message types: it receives verified wire messages from
 * shell, control and stdin and hands them to one callback, and calls a
 * callback per raw file descriptor registered with it (the worker's pipes,
 * the signalfd). The heartbeat echoes on a thread of its own.
 *
 * Ownership: a wire_msg passed to the message callback is borrowed and freed
 * after the callback returns; take it with wire_msg_move to keep it.
 * channels_reply and channels_publish steal CONTENT and METADATA. */
#ifndef CK_CHANNELS_H
#define CK_CHANNELS_H

#include <jansson.h>
#include "connection.h"
#include "wire.h"

typedef enum { CH_SHELL, CH_CONTROL, CH_STDIN, CH_IOPUB, CH_HB } channel;

typedef void (*channels_msg_fn)(channel ch, wire_msg *msg, void *ud);
typedef void (*channels_fd_fn)(int fd, void *ud);

/* Bind the five sockets of CONN and start the heartbeat thread. W signs
 * and stamps every message; it must outlive the channels. 0, or -1 with
 * the reason logged. */
int channels_open(const connection *conn, const wire_ctx *w);
/* Close the sockets (pending messages get a second to leave), stop the
 * heartbeat and end ZeroMQ. */
void channels_close(void);

void channels_on_message(channels_msg_fn fn, void *ud);
/* Call FN whenever FD is readable, until channels_unwatch_fd. 0 or -1. */
int channels_watch_fd(int fd, channels_fd_fn fn, void *ud);
void channels_unwatch_fd(int fd);

/* While held, shell is not polled: requests wait in ZeroMQ's queue, in
 * order, until the running cell ends. Control and stdin are still served. */
void channels_hold_shell(int hold);
/* Take the next message queued on shell, waiting up to TIMEOUT_MS (0: not
 * at all): 1 and *OUT filled, 0 if none came. Skips (and logs) dropped
 * messages. */
int channels_next_shell(wire_msg *out, int timeout_ms);

/* One turn of the loop: wait up to TIMEOUT_MS (-1: forever) and dispatch
 * what is ready. 0, or -1 on a fatal poll error. */
int channels_poll(int timeout_ms);
/* Make channels_running return 0: the loop in main ends after this turn. */
void channels_stop(void);
int channels_running(void);

/* Send a reply of MSG_TYPE to the sender of REQ on CH, parent = REQ's
 * header. METADATA may be NULL. 0 or -errno. */
int channels_reply(channel ch, const wire_msg *req, const char *msg_type,
                   json_t *content, json_t *metadata);
/* Publish MSG_TYPE on iopub with PARENT (borrowed; NULL = {}). 0 or -errno. */
int channels_publish(const char *msg_type, json_t *parent, json_t *content);

#endif
