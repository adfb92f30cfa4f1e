/* sluice-manage's parts: the HTTP side (http.c: TLS, callers, limits, responses), the
 * calls to main (backend.c: one control request at a time), the event streams
 * (stream.c) and the per-address limits (limits.c). The routes are api.c's. */
#ifndef SLUICE_MANAGE_MANAGE_H
#define SLUICE_MANAGE_MANAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/manage_access.h"
#include "manage/api.h"

#define MANAGE_REQ_FD    3 /* control requests to main */
#define MANAGE_EVENTS_FD 4 /* main's event stream */
#define MANAGE_LISTEN_FD 5 /* manage-listen, bound by main */
#define MANAGE_AUDIT_FD  6 /* audit-log, read-only (with --audit) */

/* backend.c: runs call for the caller named actor (audited by main when the call
 * changes something). Returns the HTTP status and sets *out to the JSON to send: the
 * records of `sluicectl --json`, or {"error": ...}. Thread-safe: calls are serialised. */
unsigned backend_call(const struct api_call *call, const char *actor, json_t **out);
void backend_init(int fd);

/* stream.c: follows main's events on fd in a thread of its own. 0 or -errno. */
int stream_start(int fd);
struct stream_reader;
/* A new reader that starts with the next event; NULL when STREAM_READERS are open. */
struct stream_reader *stream_reader_new(void);
/* Copies what the reader has not seen yet into buf as server-sent events, waiting up to
 * a few seconds for one; a comment line when none came. Returns the bytes written, or
 * -1 when the stream is over (sluice-manage is stopping). */
long stream_read(struct stream_reader *r, char *buf, size_t max);
void stream_reader_free(struct stream_reader *r);
void stream_stop(void);

/* limits.c: per source address. true when addr may make a request now; false when it
 * is over its request rate or has failed authentication too often lately. */
bool limits_allow(const struct sockaddr *addr);
/* Counts a request that failed authentication against addr. */
void limits_auth_failed(const struct sockaddr *addr);

/* history.c: the audit log's records about user, at most limit, newest first, as a JSON
 * array in *out (or {"error": ...}); the HTTP status. Thread-safe (pread only). */
void history_init(int fd);
unsigned history_for(const char *user, size_t limit, json_t **out);

/* watch.c: a deadline per connection for its handshake and each request (see there).
 * watch_connection returns the connection's context (NULL: not watched). */
#define WATCH_SLOTS 64
int watch_start(void);
void *watch_connection(int fd);
/* A response is queued: the next request's time starts; a stream has none. */
void watch_answered(void *ctx, bool stream);
void watch_closed(void *ctx);

/* sandbox.c: installs the seccomp filter (no-new-privs must be set). 0 or -errno. */
int manage_sandbox_install(void);

struct http_config {
	int listen_fd;
	const char *cert_pem, *key_pem, *ca_pem; /* ca_pem NULL: tokens only */
	const struct manage_access *access;
};

/* Starts serving (threads of its own). 0, or -1 (logged). */
int http_start(const struct http_config *cfg);
void http_stop(void);

#endif
