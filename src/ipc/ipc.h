/* IPC between sluice processes: protobuf-c messages over AF_UNIX SOCK_SEQPACKET
 * socketpairs, one message per datagram, fds passed with SCM_RIGHTS on the same sendmsg.
 *
 * Wire format of a datagram (all integers little endian):
 *   offset 0  uint16  type      value of the channel's type enum in its .proto
 *   offset 2  uint8   nfds      number of fds in the SCM_RIGHTS control message
 *   offset 3  uint8   reserved  must be 0
 *   offset 4  uint32  length    payload length; must equal datagram length - 8
 *   offset 8  payload           protobuf-c packed message
 *
 * Receiving is table driven: every channel and receiver has a route table naming, per
 * type, the payload descriptor, the handler, the exact fd count, the receiver's states
 * in which the message is allowed and whether it may arrive only once. Anything else is
 * a contract violation; the caller ends the sender. */
#ifndef SLUICE_IPC_H
#define SLUICE_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <talloc.h>

#define IPC_HDR_LEN 8
#define IPC_MAX_FDS 3
/* Hard upper bound for every channel; per-channel bounds are smaller. */
#define IPC_MAX_PAYLOAD (64 * 1024)
/* ipc_recv_dispatch(): the peer closed the channel. Handlers must not return it. */
#define IPC_CLOSED INT32_MAX

/* Route flags; a route row comes from the IPC_ROUTE_<TYPE>(handler) macro that
 * contract.awk generates from the .proto (src/ipc/<channel>.routes.h). */
#define IPC_ONCE   (1u << 0) /* accepted at most once per channel */
#define IPC_SECRET (1u << 1) /* carries a password, cookie or key: wiped once handled */

/* Route states: a receiver defines its states as single bits (1u << n) and passes the
 * current one to ipc_recv_dispatch(). */
#define IPC_ANY_STATE UINT32_MAX

/* msg: the unpacked message (cast by the handler); it and everything it references
 * are freed when the handler returns, unless the handler talloc_steal()s msg, which
 * takes all its fields with it. fds: the received fds, owned by the handler from the
 * call on (also when it fails); NULL when none. Returns >= 0 or a negative errno. */
typedef int (*ipc_handler_fn)(void *ctx, void *msg, int *fds);

struct ipc_route {
	uint16_t type;    /* enum value from the .proto */
	const char *name; /* for logs, e.g. "MW_TUNNEL_REQ" */
	const ProtobufCMessageDescriptor *desc;
	ipc_handler_fn handler;
	uint8_t nfds;    /* exact */
	uint32_t states; /* receiver's states (bits) in which it is allowed */
	uint32_t flags;  /* IPC_ONCE */
};

struct ipc_channel {
	int fd;
	const struct ipc_route *routes;
	size_t n_routes; /* at most 64 (once_seen bits) */
	size_t max_payload;
	uint64_t once_seen; /* IPC_ONCE bookkeeping, bit = route position */
	const char *name;   /* for logs: "worker 1234", "sec" */
};

/* Route tables and bounds are programmer input: they are checked with assert(). */
void ipc_channel_init(struct ipc_channel *ch, int fd, const struct ipc_route *routes,
		      size_t n_routes, size_t max_payload, const char *name);

/* Receives one message without blocking and calls its handler. Returns the handler's
 * return value (>= 0), IPC_CLOSED when the peer closed (an empty datagram reads the
 * same), -EAGAIN when nothing is queued, or a negative errno: -EPROTO malformed (short,
 * length mismatch, reserved byte, foreign control message, payload that does not
 * unpack or lacks a required field), -EMSGSIZE oversize, -EBADMSG unknown type, -EPERM
 * wrong state or repeated IPC_ONCE, -EBADF wrong fd count, or the handler's error.
 * Every received fd is closed on error before the handler is called. On any negative
 * return except -EAGAIN, ipc_last_error() says what happened, naming the channel.
 * ch is used again after the handler returns (its buffer is wiped): a handler must not
 * free ch or call ipc_channel_init on it; work that may do so waits for the return. */
int ipc_recv_dispatch(struct ipc_channel *ch, uint32_t state, void *ctx);

/* Sends one message with nfds fds (MSG_NOSIGNAL, retries EINTR). Returns 0 or a negative
 * errno: -EMSGSIZE when the packed size is above IPC_MAX_PAYLOAD, -EINVAL on bad
 * arguments, -EAGAIN when a non-blocking socket is full. */
int ipc_send(int sock, uint16_t type, const ProtobufCMessage *msg, const int *fds, unsigned nfds);

/* The two halves of ipc_send. ipc_pack: header and payload under ctx, NULL with errno
 * set (and ipc_last_error) on a message that may not be sent. ipc_send_packed: one
 * sendmsg of them with the fds; 0 or a negative errno (-EAGAIN when full). */
uint8_t *ipc_pack(TALLOC_CTX *ctx, uint16_t type, const ProtobufCMessage *msg, unsigned nfds,
		  size_t *len);
int ipc_send_packed(int sock, const uint8_t *buf, size_t len, const int *fds, unsigned nfds);

/* Messages a non-blocking sender could not send yet (the peer is slow, not broken),
 * kept in order with their own copies of the fds, up to limit bytes. */
struct ipc_qmsg;
struct ipc_queue {
	struct ipc_qmsg *head, *tail;
	size_t bytes, count;
	size_t limit;
};

/* Sends now if nothing waits and the socket takes it, else appends. The fds are the
 * queue's from the call on: each is closed once sent, or at once on error, never
 * duplicated (a full descriptor table cannot fail a send). 0, -ENOBUFS when the queue
 * would pass its limit, or another negative errno of ipc_send. */
int ipc_send_queued(int sock, struct ipc_queue *q, uint16_t type, const ProtobufCMessage *msg,
		    const int *fds, unsigned nfds);
/* Sends what waits until the socket is full: 0 when the queue is empty, -EAGAIN when
 * some is left, another negative errno on a broken channel. */
int ipc_queue_flush(int sock, struct ipc_queue *q);
static inline bool ipc_queue_empty(const struct ipc_queue *q)
{
	return q->head == NULL;
}

/* Synchronous request/reply: waits up to timeout_ms (< 0: forever) for one message,
 * which must be of `type` with exactly nfds fds, and unpacks it into *out, allocated
 * under mem_ctx (talloc_free(*out) frees all of it). The fds go to fds[0..nfds-1].
 * Returns 0 or a negative errno: -ETIMEDOUT, -ECONNRESET when the peer closed,
 * -EBADMSG another type, -EBADF wrong fd count, or the framing errors of
 * ipc_recv_dispatch(). On error no fd is left open. */
int ipc_recv_expect(int sock, uint16_t type, const ProtobufCMessageDescriptor *desc,
		    size_t max_payload, TALLOC_CTX *mem_ctx, void **out, int *fds, unsigned nfds,
		    int timeout_ms);

/* talloc_size() whose memory is wiped when it is freed, however that happens: for what
 * holds a password, a cookie or key material on its way into or out of a message. */
void *ipc_alloc_secret(TALLOC_CTX *ctx, size_t size);

/* A protobuf-c allocator that allocates under ctx (and frees with talloc_free). */
void ipc_allocator_init(ProtobufCAllocator *a, TALLOC_CTX *ctx);

/* What the last failed ipc_* call in this thread found wrong; "" if none. */
const char *ipc_last_error(void);

#endif
