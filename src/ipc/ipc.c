#include "config.h"
#include "ipc/ipc.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The processes are single-threaded; per-thread storage keeps this honest anyway. */
static __thread char last_error[256];

/* A received datagram whose framing (not its type or payload) has been checked. */
struct frame {
	uint16_t type;
	uint8_t nfds;
	uint32_t len;
	const uint8_t *payload;
	int fds[IPC_MAX_FDS];
	unsigned nrecv;
	size_t nread; /* bytes recvmsg() wrote into the buffer: what a wipe must cover */
};

union ipc_cmsgbuf {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
};

static void __attribute__((format(printf, 1, 2))) set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *ipc_last_error(void)
{
	return last_error;
}

static void *talloc_pb_alloc(void *data, size_t size)
{
	return talloc_size(data, size);
}

static void talloc_pb_free(void *data, void *ptr)
{
	talloc_free(ptr);
}

static int wipe_destructor(void *ptr)
{
	explicit_bzero(ptr, talloc_get_size(ptr));
	return 0;
}

void *ipc_alloc_secret(TALLOC_CTX *ctx, size_t size)
{
	void *p = talloc_size(ctx, size);

	if (p)
		_talloc_set_destructor(p, wipe_destructor);
	return p;
}

/* A secret message's fields are wiped when they are freed, however that happens. */
static void *talloc_pb_alloc_secret(void *data, size_t size)
{
	return ipc_alloc_secret(data, size);
}

void ipc_allocator_init(ProtobufCAllocator *a, TALLOC_CTX *ctx)
{
	a->alloc = talloc_pb_alloc;
	a->free = talloc_pb_free;
	a->allocator_data = ctx;
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_header(uint8_t *p, uint16_t type, uint8_t nfds, uint32_t len)
{
	p[0] = type & 0xff;
	p[1] = type >> 8;
	p[2] = nfds;
	p[3] = 0;
	p[4] = len & 0xff;
	p[5] = (len >> 8) & 0xff;
	p[6] = (len >> 16) & 0xff;
	p[7] = len >> 24;
}

/* Takes every fd out of the control data, so that none can leak whatever is wrong with
 * the datagram. Returns false when anything but exactly SCM_RIGHTS arrived or more fds
 * than fit in f->fds (the excess is closed here). */
static bool collect_fds(struct msghdr *mh, struct frame *f, bool *foreign)
{
	bool ok = true;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			*foreign = true;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(c);

		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (f->nrecv < IPC_MAX_FDS) {
				f->fds[f->nrecv++] = fd;
			} else {
				close(fd);
				ok = false;
			}
		}
	}
	return ok;
}

/* Reads one datagram into buf (IPC_HDR_LEN + max_payload + 1 bytes) without blocking
 * and checks its framing. Returns 0, 1 when the peer closed, or a negative errno; on
 * anything but 0 no received fd is left open. */
static int recv_frame(int sock, uint8_t *buf, size_t max_payload, struct frame *f, const char *who)
{
	union ipc_cmsgbuf cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = IPC_HDR_LEN + max_payload + 1};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = cbuf.buf,
	    .msg_controllen = sizeof(cbuf.buf),
	};
	bool foreign = false;
	ssize_t n;
	int ret;

	memset(f, 0, sizeof(*f));
	do {
		n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		if (ret != -EAGAIN)
			set_error("%s: recvmsg: %s", who, strerror(-ret));
		return ret;
	}
	f->nread = (size_t)n;

	bool fds_ok = collect_fds(&mh, f, &foreign);

	if (n == 0) {
		ret = 1;
		goto fail;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		set_error("%s: datagram larger than %zu bytes", who, IPC_HDR_LEN + max_payload);
		ret = -EMSGSIZE;
		goto fail;
	}
	if (foreign) {
		set_error("%s: unexpected control message", who);
		ret = -EPROTO;
		goto fail;
	}
	if (n < IPC_HDR_LEN) {
		set_error("%s: short datagram (%zd bytes)", who, n);
		ret = -EPROTO;
		goto fail;
	}
	f->type = get_le16(buf);
	f->nfds = buf[2];
	f->len = get_le32(buf + 4);
	f->payload = buf + IPC_HDR_LEN;
	if (buf[3] != 0) {
		set_error("%s: type %u: reserved byte is %u", who, f->type, buf[3]);
		ret = -EPROTO;
		goto fail;
	}
	if (f->len > max_payload) {
		set_error("%s: type %u: payload of %u bytes exceeds %zu", who, f->type, f->len,
			  max_payload);
		ret = -EMSGSIZE;
		goto fail;
	}
	if (f->len != (size_t)n - IPC_HDR_LEN) {
		set_error("%s: type %u: header says %u payload bytes, datagram has %zd", who,
			  f->type, f->len, n - IPC_HDR_LEN);
		ret = -EPROTO;
		goto fail;
	}
	if (!fds_ok || (mh.msg_flags & MSG_CTRUNC) || f->nrecv != f->nfds) {
		set_error("%s: type %u: header says %u fds, %s%u arrived", who, f->type, f->nfds,
			  fds_ok && !(mh.msg_flags & MSG_CTRUNC) ? "" : "more than ", f->nrecv);
		ret = -EBADF;
		goto fail;
	}
	return 0;
fail:
	close_fds(f->fds, f->nrecv);
	f->nrecv = 0;
	return ret;
}

/* Unpacks under parent so that the message is the talloc parent of all its fields:
 * talloc_free() or talloc_steal() of the message then covers everything. secret: the
 * fields are wiped when freed. */
static void *unpack_owned(const ProtobufCMessageDescriptor *desc, const struct frame *f,
			  TALLOC_CTX *parent, bool secret)
{
	TALLOC_CTX *fields = talloc_new(parent);
	ProtobufCAllocator a;
	ProtobufCMessage *msg;

	if (!fields)
		return NULL;
	ipc_allocator_init(&a, fields);
	if (secret)
		a.alloc = talloc_pb_alloc_secret;
	msg = protobuf_c_message_unpack(desc, &a, f->len, f->payload);
	if (!msg) {
		talloc_free(fields);
		return NULL;
	}
	talloc_steal(parent, msg);
	talloc_steal(msg, fields);
	return msg;
}

void ipc_channel_init(struct ipc_channel *ch, int fd, const struct ipc_route *routes,
		      size_t n_routes, size_t max_payload, const char *name)
{
	assert(n_routes <= 64);
	assert(max_payload <= IPC_MAX_PAYLOAD);
	for (size_t i = 0; i < n_routes; i++) {
		assert(routes[i].desc && routes[i].handler && routes[i].name);
		assert(routes[i].nfds <= IPC_MAX_FDS);
		for (size_t j = 0; j < i; j++)
			assert(routes[j].type != routes[i].type);
	}
	ch->fd = fd;
	ch->routes = routes;
	ch->n_routes = n_routes;
	ch->max_payload = max_payload;
	ch->once_seen = 0;
	ch->name = name;
}

static const struct ipc_route *find_route(const struct ipc_channel *ch, uint16_t type, size_t *pos)
{
	for (size_t i = 0; i < ch->n_routes; i++) {
		if (ch->routes[i].type == type) {
			*pos = i;
			return &ch->routes[i];
		}
	}
	return NULL;
}

int ipc_recv_dispatch(struct ipc_channel *ch, uint32_t state, void *ctx)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	const struct ipc_route *r;
	struct frame f = {.nread = 0};
	uint8_t *buf = NULL;
	void *msg;
	size_t pos;
	int ret;

	if (!tmp)
		return -ENOMEM;
	buf = talloc_size(tmp, IPC_HDR_LEN + ch->max_payload + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = recv_frame(ch->fd, buf, ch->max_payload, &f, ch->name);
	if (ret == 1)
		ret = IPC_CLOSED;
	if (ret != 0)
		goto out;

	r = find_route(ch, f.type, &pos);
	if (!r) {
		set_error("%s: unknown message type %u", ch->name, f.type);
		ret = -EBADMSG;
		goto fail;
	}
	if (r->nfds != f.nrecv) {
		set_error("%s: %s with %u fds, expected %u", ch->name, r->name, f.nrecv, r->nfds);
		ret = -EBADF;
		goto fail;
	}
	if (!(r->states & state)) {
		set_error("%s: %s not allowed in state 0x%x", ch->name, r->name, state);
		ret = -EPERM;
		goto fail;
	}
	if ((r->flags & IPC_ONCE) && (ch->once_seen & (UINT64_C(1) << pos))) {
		set_error("%s: %s repeated", ch->name, r->name);
		ret = -EPERM;
		goto fail;
	}
	msg = unpack_owned(r->desc, &f, tmp, r->flags & IPC_SECRET);
	if (!msg) {
		set_error("%s: %s: payload does not unpack as %s", ch->name, r->name,
			  r->desc->name);
		ret = -EPROTO;
		goto fail;
	}
	if (r->flags & IPC_ONCE)
		ch->once_seen |= UINT64_C(1) << pos;

	ret = r->handler(ctx, msg, f.nrecv ? f.fds : NULL);
	if (ret < 0)
		set_error("%s: %s: handler failed: %s", ch->name, r->name, strerror(-ret));
	goto out;
fail:
	close_fds(f.fds, f.nrecv);
out:
	/* What arrived, whatever it was: a frame that failed to route may still hold a
	 * password. Only the bytes that arrived: wiping the whole buffer would touch
	 * pages of it (32 KiB for a worker's main channel) that nothing wrote. */
	if (buf && ret != -EAGAIN)
		explicit_bzero(buf, f.nread);
	talloc_free(tmp);
	return ret;
}

uint8_t *ipc_pack(TALLOC_CTX *ctx, uint16_t type, const ProtobufCMessage *msg, unsigned nfds,
		  size_t *out_len)
{
	uint8_t *buf;
	size_t len;

	/* The receiver would reject it and end us; say so here, where it is a bug. */
	if (!protobuf_c_message_check(msg)) {
		set_error("send type %u: %s lacks a required field", type, msg->descriptor->name);
		errno = EINVAL;
		return NULL;
	}
	len = protobuf_c_message_get_packed_size(msg);
	if (len > IPC_MAX_PAYLOAD) {
		set_error("send type %u: payload of %zu bytes exceeds %d", type, len,
			  IPC_MAX_PAYLOAD);
		errno = EMSGSIZE;
		return NULL;
	}
	buf = talloc_size(ctx, IPC_HDR_LEN + len);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	put_header(buf, type, (uint8_t)nfds, (uint32_t)len);
	protobuf_c_message_pack(msg, buf + IPC_HDR_LEN);
	*out_len = IPC_HDR_LEN + len;
	return buf;
}

int ipc_send_packed(int sock, const uint8_t *buf, size_t len, const int *fds, unsigned nfds)
{
	union ipc_cmsgbuf cbuf;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		set_error("send: sendmsg: %s", strerror(errno));
		return -errno;
	}
	if ((size_t)n != len) {
		set_error("send: short send");
		return -EIO;
	}
	return 0;
}

int ipc_send(int sock, uint16_t type, const ProtobufCMessage *msg, const int *fds, unsigned nfds)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if (!msg || nfds > IPC_MAX_FDS || (nfds && !fds)) {
		set_error("send type %u: invalid arguments", type);
		return -EINVAL;
	}
	buf = ipc_pack(NULL, type, msg, nfds, &len);
	if (!buf)
		return -errno;
	ret = ipc_send_packed(sock, buf, len, fds, nfds);
	/* Every frame: no caller has to remember which ones carry a secret. */
	explicit_bzero(buf, len);
	talloc_free(buf);
	return ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until sock is readable. Returns 0 or -ETIMEDOUT (or a poll error). */
static int wait_readable(int sock, int64_t deadline)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	int ret;

	for (;;) {
		int wait = -1;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			wait = left > 0 ? (int)(left < INT32_MAX ? left : INT32_MAX) : 0;
		}
		ret = poll(&pfd, 1, wait);
		if (ret > 0)
			return 0;
		if (ret == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int ipc_recv_expect(int sock, uint16_t type, const ProtobufCMessageDescriptor *desc,
		    size_t max_payload, TALLOC_CTX *mem_ctx, void **out, int *fds, unsigned nfds,
		    int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	TALLOC_CTX *tmp;
	struct frame f = {.nread = 0};
	uint8_t *buf;
	void *msg;
	int ret;

	if (nfds > IPC_MAX_FDS || max_payload > IPC_MAX_PAYLOAD || (nfds && !fds)) {
		set_error("expect type %u: invalid arguments", type);
		return -EINVAL;
	}
	tmp = talloc_new(NULL);
	buf = tmp ? talloc_size(tmp, IPC_HDR_LEN + max_payload + 1) : NULL;
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* A readable socket may still have nothing (EAGAIN): wait again until the deadline. */
	do {
		ret = wait_readable(sock, deadline);
		if (ret < 0) {
			set_error("expect type %u: %s", type, strerror(-ret));
			goto out;
		}
		ret = recv_frame(sock, buf, max_payload, &f, "expect");
	} while (ret == -EAGAIN);
	if (ret == 1) {
		set_error("expect type %u: peer closed", type);
		ret = -ECONNRESET;
	}
	if (ret != 0)
		goto out;

	if (f.type != type) {
		set_error("expect type %u: got type %u", type, f.type);
		ret = -EBADMSG;
		goto fail;
	}
	if (f.nrecv != nfds) {
		set_error("expect type %u: %u fds, expected %u", type, f.nrecv, nfds);
		ret = -EBADF;
		goto fail;
	}
	/* Awaited messages are few and small (start-up state, replies to the worker):
	 * all are treated as secret. */
	msg = unpack_owned(desc, &f, mem_ctx, true);
	if (!msg) {
		set_error("expect type %u: payload does not unpack as %s", type, desc->name);
		ret = -EPROTO;
		goto fail;
	}
	if (nfds)
		memcpy(fds, f.fds, sizeof(int) * nfds);
	*out = msg;
	goto out;
fail:
	close_fds(f.fds, f.nrecv);
out:
	if (buf)
		explicit_bzero(buf, f.nread);
	talloc_free(tmp);
	return ret;
}
