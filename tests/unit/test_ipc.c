#include "config.h"
#include "ipc/ipc.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ipc/main_worker.pb-c.h"

#include "check_main.h"

/* Receiver states of the test table, as bits. */
#define ST_AUTH   (1u << 0)
#define ST_WAIT   (1u << 1)
#define ST_TUNNEL (1u << 2)

#define MAX_PAYLOAD 256

struct rx {
	int calls;
	uint16_t last;
	char text[64];
	int fd;
	int handler_ret;
	TALLOC_CTX *keep;
	MwLog *kept;
};

static int on_log(void *ctx, void *msg, int *fds)
{
	struct rx *rx = ctx;
	MwLog *m = msg;

	rx->calls++;
	rx->last = MW_TYPE__MW_LOG;
	snprintf(rx->text, sizeof(rx->text), "%s", m->text);
	ck_assert_ptr_null(fds);
	if (rx->keep)
		rx->kept = talloc_steal(rx->keep, m);
	return rx->handler_ret;
}

static int on_tunnel_req(void *ctx, void *msg, int *fds)
{
	struct rx *rx = ctx;

	rx->calls++;
	rx->last = MW_TYPE__MW_TUNNEL_REQ;
	return 0;
}

static int on_tunnel_ok(void *ctx, void *msg, int *fds)
{
	struct rx *rx = ctx;
	MwTunnelOk *m = msg;

	rx->calls++;
	rx->last = MW_TYPE__MW_TUNNEL_OK;
	snprintf(rx->text, sizeof(rx->text), "%s", m->device);
	ck_assert_ptr_nonnull(fds);
	rx->fd = fds[0];
	return 0;
}

static int on_stats(void *ctx, void *msg, int *fds)
{
	struct rx *rx = ctx;

	rx->calls++;
	rx->last = MW_TYPE__MW_STATS;
	return 0;
}

static const struct ipc_route routes[] = {
    {MW_TYPE__MW_LOG, "MW_LOG", &mw_log__descriptor, on_log, 0, IPC_ANY_STATE, 0},
    {MW_TYPE__MW_TUNNEL_REQ, "MW_TUNNEL_REQ", &mw_tunnel_req__descriptor, on_tunnel_req, 0, ST_AUTH,
     IPC_ONCE},
    {MW_TYPE__MW_TUNNEL_OK, "MW_TUNNEL_OK", &mw_tunnel_ok__descriptor, on_tunnel_ok, 1, ST_WAIT, 0},
    {MW_TYPE__MW_STATS, "MW_STATS", &mw_stats__descriptor, on_stats, 0, ST_TUNNEL, 0},
};

static int sv[2];
static struct ipc_channel ch;
static struct rx rx;

static void setup(void)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
			 0);
	ipc_channel_init(&ch, sv[1], routes, sizeof(routes) / sizeof(routes[0]), MAX_PAYLOAD,
			 "worker 1234");
	memset(&rx, 0, sizeof(rx));
	rx.fd = -1;
}

static void teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Sends a hand-made datagram: header fields as given, then len payload bytes. */
static void raw_send(uint16_t type, uint8_t hdr_nfds, uint8_t reserved, uint32_t hdr_len,
		     const void *payload, size_t len, const int *fds, unsigned nfds)
{
	static uint8_t buf[IPC_HDR_LEN + 4096];
	char cbuf[CMSG_SPACE(sizeof(int) * (IPC_MAX_FDS + 2))] __attribute__((aligned(8))) = {0};
	struct iovec iov = {.iov_base = buf, .iov_len = IPC_HDR_LEN + len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	ck_assert_uint_le(len, 4096);
	ck_assert_uint_le(nfds, IPC_MAX_FDS + 2);
	buf[0] = type & 0xff;
	buf[1] = type >> 8;
	buf[2] = hdr_nfds;
	buf[3] = reserved;
	buf[4] = hdr_len & 0xff;
	buf[5] = (hdr_len >> 8) & 0xff;
	buf[6] = (hdr_len >> 16) & 0xff;
	buf[7] = hdr_len >> 24;
	if (len)
		memcpy(buf + IPC_HDR_LEN, payload, len);
	if (nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ck_assert_int_eq(sendmsg(sv[0], &mh, 0), (ssize_t)iov.iov_len);
}

/* A valid MW_LOG payload: priority 3, text "hi". */
static const uint8_t log_payload[] = {0x08, 0x03, 0x12, 0x02, 'h', 'i'};

static void send_log(const char *text)
{
	MwLog m = MW_LOG__INIT;

	m.priority = 6;
	m.text = (char *)text;
	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_LOG, &m.base, NULL, 0), 0);
}

static void send_tunnel_ok(const int *fds, unsigned nfds)
{
	MwTunnelOk m = MW_TUNNEL_OK__INIT;

	m.sid = "s1";
	m.username = "alice";
	m.groupname = "staff";
	m.device = "vpns0";
	m.ipv4 = "198.19.0.2";
	m.ipv4_local = "198.19.0.1";
	m.ipv4_netmask = "255.255.255.0";
	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_TUNNEL_OK, &m.base, fds, nfds), 0);
}

/* Expects the next dispatch to fail with err, leaving no received fd open. */
static void expect_reject(uint32_t state, int err, const char *needle)
{
	ck_assert_int_eq(ipc_recv_dispatch(&ch, state, &rx), err);
	ck_assert_int_eq(rx.calls, 0);
	ck_assert_msg(strstr(ipc_last_error(), needle), "error '%s' lacks '%s'", ipc_last_error(),
		      needle);
	ck_assert_msg(strstr(ipc_last_error(), "worker 1234"), "error '%s' lacks channel",
		      ipc_last_error());
}

START_TEST(test_round_trip_no_fd)
{
	talloc_enable_null_tracking();
	size_t before = talloc_total_blocks(NULL);

	send_log("hello");
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), 0);
	ck_assert_int_eq(rx.calls, 1);
	ck_assert_str_eq(rx.text, "hello");
	ck_assert_uint_eq(talloc_total_blocks(NULL), before);

	rx.handler_ret = 7;
	send_log("again");
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_TUNNEL, &rx), 7);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_TUNNEL, &rx), -EAGAIN);
	talloc_disable_null_tracking();
}
END_TEST

START_TEST(test_round_trip_fd)
{
	int p[2];
	char c = 0;

	ck_assert_int_eq(pipe(p), 0);
	send_tunnel_ok(&p[0], 1);
	close(p[0]);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_WAIT, &rx), 0);
	ck_assert_int_eq(rx.last, MW_TYPE__MW_TUNNEL_OK);
	ck_assert_str_eq(rx.text, "vpns0");
	ck_assert_int_ge(rx.fd, 0);
	ck_assert_int_eq(fcntl(rx.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(read(rx.fd, &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	close(rx.fd);
	close(p[1]);
}
END_TEST

/* A full socket queues in order, with copies of the fds; the flush delivers all. */
START_TEST(test_send_queue)
{
	struct ipc_queue q = {.limit = 1 << 20};
	MwLog m = MW_LOG__INIT;
	char text[32];
	int p[2], queued = 0, sent = 0, fds_before;

	ck_assert_int_eq(pipe(p), 0);
	fds_before = count_fds();
	m.priority = 6;
	m.text = text;
	/* Fill the socket, then a few more that must wait. */
	while (queued < 5) {
		snprintf(text, sizeof(text), "%d", sent);
		ck_assert_int_eq(ipc_send_queued(sv[0], &q, MW_TYPE__MW_LOG, &m.base, NULL, 0), 0);
		sent++;
		queued += !ipc_queue_empty(&q);
	}
	ck_assert_int_eq(ipc_queue_flush(sv[0], &q), -EAGAIN);
	/* An fd travels too, and the queue takes it: no new descriptor is needed, so a full
	 * descriptor table (here: a limit of 0) cannot fail the send. */
	{
		int dup_fd = dup(p[0]);
		MwTunnelOk ok = MW_TUNNEL_OK__INIT;
		struct rlimit saved, none = {0, 0};

		ok.sid = "s1";
		ok.username = ok.groupname = ok.device = ok.ipv4 = ok.ipv4_local =
		    ok.ipv4_netmask = "x";
		ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
		none.rlim_max = saved.rlim_max;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
		ck_assert_int_eq(
		    ipc_send_queued(sv[0], &q, MW_TYPE__MW_TUNNEL_OK, &ok.base, &dup_fd, 1), 0);
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	}
	ck_assert_uint_eq(q.count, 6);
	/* The limit: a message that would pass it is refused, nothing else changes. */
	q.limit = q.bytes;
	ck_assert_int_eq(ipc_send_queued(sv[0], &q, MW_TYPE__MW_LOG, &m.base, NULL, 0), -ENOBUFS);
	ck_assert_uint_eq(q.count, 6);
	for (int i = 0; i < sent; i++) {
		char want[32];

		while (ipc_recv_dispatch(&ch, ST_AUTH, &rx) == -EAGAIN)
			ck_assert_int_eq(ipc_queue_flush(sv[0], &q) == 0 || !ipc_queue_empty(&q), 1);
		snprintf(want, sizeof(want), "%d", i);
		ck_assert_str_eq(rx.text, want);
	}
	ck_assert_int_eq(ipc_queue_flush(sv[0], &q), 0);
	ck_assert(ipc_queue_empty(&q));
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_WAIT, &rx), 0);
	ck_assert_int_eq(rx.last, MW_TYPE__MW_TUNNEL_OK);
	close(rx.fd);
	ck_assert_int_eq(count_fds(), fds_before); /* the queue closed the fd it took */
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_handler_keeps_message)
{
	rx.keep = talloc_new(NULL);
	send_log("kept");
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), 0);
	ck_assert_ptr_nonnull(rx.kept);
	ck_assert_str_eq(rx.kept->text, "kept");
	talloc_free(rx.keep);
}
END_TEST

START_TEST(test_handler_error)
{
	rx.handler_ret = -EIO;
	send_log("x");
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), -EIO);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(), "MW_LOG"));
}
END_TEST

START_TEST(test_short_header)
{
	static const uint8_t three[] = {2, 0, 0};
	struct iovec iov = {.iov_base = (void *)three, .iov_len = sizeof(three)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	ck_assert_int_eq(sendmsg(sv[0], &mh, 0), 3);
	expect_reject(ST_AUTH, -EPROTO, "short");
}
END_TEST

START_TEST(test_length_mismatch)
{
	raw_send(MW_TYPE__MW_LOG, 0, 0, sizeof(log_payload) + 1, log_payload, sizeof(log_payload),
		 NULL, 0);
	expect_reject(ST_AUTH, -EPROTO, "datagram has");
	raw_send(MW_TYPE__MW_LOG, 0, 0, sizeof(log_payload) - 1, log_payload, sizeof(log_payload),
		 NULL, 0);
	expect_reject(ST_AUTH, -EPROTO, "datagram has");
}
END_TEST

START_TEST(test_oversized)
{
	static uint8_t big[1000];

	/* Fits the receive buffer, exceeds the channel's bound by one byte. */
	raw_send(MW_TYPE__MW_LOG, 0, 0, MAX_PAYLOAD + 1, big, MAX_PAYLOAD + 1, NULL, 0);
	expect_reject(ST_AUTH, -EMSGSIZE, "exceeds");
	/* Larger than the receive buffer: truncated by the kernel. */
	raw_send(MW_TYPE__MW_LOG, 0, 0, sizeof(big), big, sizeof(big), NULL, 0);
	expect_reject(ST_AUTH, -EMSGSIZE, "larger");
	/* The header lies about a huge length. */
	raw_send(MW_TYPE__MW_LOG, 0, 0, UINT32_MAX, log_payload, sizeof(log_payload), NULL, 0);
	expect_reject(ST_AUTH, -EMSGSIZE, "exceeds");
}
END_TEST

START_TEST(test_send_oversized)
{
	MwLog m = MW_LOG__INIT;
	char *text = calloc(1, IPC_MAX_PAYLOAD + 1);

	memset(text, 'a', IPC_MAX_PAYLOAD);
	m.text = text;
	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_LOG, &m.base, NULL, 0), -EMSGSIZE);
	free(text);
}
END_TEST

START_TEST(test_send_missing_required)
{
	MwLog m = MW_LOG__INIT;

	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_LOG, &m.base, NULL, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(), "required"));
}
END_TEST

START_TEST(test_reserved_byte)
{
	raw_send(MW_TYPE__MW_LOG, 0, 1, sizeof(log_payload), log_payload, sizeof(log_payload), NULL,
		 0);
	expect_reject(ST_AUTH, -EPROTO, "reserved");
}
END_TEST

START_TEST(test_unknown_type)
{
	raw_send(99, 0, 0, sizeof(log_payload), log_payload, sizeof(log_payload), NULL, 0);
	expect_reject(ST_AUTH, -EBADMSG, "unknown message type 99");
	raw_send(MW_TYPE__MW_NONE, 0, 0, 0, NULL, 0, NULL, 0);
	expect_reject(ST_AUTH, -EBADMSG, "unknown message type 0");
}
END_TEST

START_TEST(test_wrong_state)
{
	MwStats m = MW_STATS__INIT;

	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_STATS, &m.base, NULL, 0), 0);
	expect_reject(ST_AUTH, -EPERM, "MW_STATS not allowed in state 0x1");
	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_STATS, &m.base, NULL, 0), 0);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_TUNNEL, &rx), 0);
	ck_assert_int_eq(rx.last, MW_TYPE__MW_STATS);
}
END_TEST

START_TEST(test_once_twice)
{
	MwTunnelReq m = MW_TUNNEL_REQ__INIT;

	m.cookie.data = (uint8_t *)"c";
	m.cookie.len = 1;
	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_TUNNEL_REQ, &m.base, NULL, 0), 0);
	ck_assert_int_eq(ipc_send(sv[0], MW_TYPE__MW_TUNNEL_REQ, &m.base, NULL, 0), 0);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), 0);
	ck_assert_int_eq(rx.calls, 1);
	rx.calls = 0;
	expect_reject(ST_AUTH, -EPERM, "MW_TUNNEL_REQ repeated");
}
END_TEST

/* Sends a pipe end (or several) with the given header, then checks that dispatch
 * fails with -EBADF and that no received fd stays open. */
static void fd_mismatch(uint16_t type, uint8_t hdr_nfds, unsigned nfds, const void *payload,
			size_t len)
{
	int p[2], fds[IPC_MAX_FDS + 2];
	int before = count_fds();

	ck_assert_int_eq(pipe(p), 0);
	for (unsigned i = 0; i < nfds; i++)
		fds[i] = p[0];
	raw_send(type, hdr_nfds, 0, len, payload, len, fds, nfds);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(count_fds(), before);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_WAIT, &rx), -EBADF);
	ck_assert_int_eq(rx.calls, 0);
	ck_assert_int_eq(count_fds(), before);
}

START_TEST(test_fd_count_mismatch)
{
	static const uint8_t ok_payload[] = {0x0a, 0x01, 's',  0x12, 0x01, 'u',  0x1a,
					     0x01, 'g',  0x22, 0x01, 'd',  0x2a, 0x01,
					     'a',  0x32, 0x01, 'b',  0x3a, 0x01, 'm',
					     /* mtu, idle, dpd, mobile dpd, keepalive, stats */
					     0x48, 0x01, 0x50, 0x01, 0x58, 0x01, 0x60, 0x01,
					     0x68, 0x01, 0x70, 0x01};

	/* Header and route say 1, nothing arrived. */
	fd_mismatch(MW_TYPE__MW_TUNNEL_OK, 1, 0, ok_payload, sizeof(ok_payload));
	/* Header says 0, an fd arrived. */
	fd_mismatch(MW_TYPE__MW_LOG, 0, 1, log_payload, sizeof(log_payload));
	/* Header agrees with what arrived, the route wants none. */
	fd_mismatch(MW_TYPE__MW_LOG, 1, 1, log_payload, sizeof(log_payload));
	/* Header agrees with what arrived, the route wants one. */
	fd_mismatch(MW_TYPE__MW_TUNNEL_OK, 2, 2, ok_payload, sizeof(ok_payload));
	/* More than IPC_MAX_FDS: the control data is truncated. */
	fd_mismatch(MW_TYPE__MW_TUNNEL_OK, 4, 4, ok_payload, sizeof(ok_payload));
	fd_mismatch(MW_TYPE__MW_TUNNEL_OK, 1, 5, ok_payload, sizeof(ok_payload));

	/* The same payload with its one fd is accepted. */
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	raw_send(MW_TYPE__MW_TUNNEL_OK, 1, 0, sizeof(ok_payload), ok_payload, sizeof(ok_payload),
		 &p[0], 1);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_WAIT, &rx), 0);
	ck_assert_str_eq(rx.text, "d");
	close(rx.fd);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_fd_closed_on_other_errors)
{
	int p[2];
	int before = count_fds();

	ck_assert_int_eq(pipe(p), 0);
	/* Right fd count but not allowed in this state. */
	raw_send(MW_TYPE__MW_TUNNEL_OK, 1, 0, 0, NULL, 0, &p[0], 1);
	/* Right fd count, payload lacks every required field. */
	raw_send(MW_TYPE__MW_TUNNEL_OK, 1, 0, 0, NULL, 0, &p[0], 1);
	/* Reserved byte set. */
	raw_send(MW_TYPE__MW_TUNNEL_OK, 1, 1, 0, NULL, 0, &p[0], 1);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), -EPERM);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_WAIT, &rx), -EPROTO);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_WAIT, &rx), -EPROTO);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_missing_required)
{
	static const uint8_t no_text[] = {0x08, 0x03};
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff};

	raw_send(MW_TYPE__MW_LOG, 0, 0, sizeof(no_text), no_text, sizeof(no_text), NULL, 0);
	expect_reject(ST_AUTH, -EPROTO, "does not unpack");
	raw_send(MW_TYPE__MW_LOG, 0, 0, sizeof(garbage), garbage, sizeof(garbage), NULL, 0);
	expect_reject(ST_AUTH, -EPROTO, "does not unpack");
}
END_TEST

START_TEST(test_peer_closed)
{
	send_log("last words");
	close(sv[0]);
	sv[0] = -1;
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), 0);
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), IPC_CLOSED);
}
END_TEST

START_TEST(test_empty_nonblocking)
{
	ck_assert_int_eq(ipc_recv_dispatch(&ch, ST_AUTH, &rx), -EAGAIN);
}
END_TEST

START_TEST(test_expect_ok)
{
	TALLOC_CTX *mem = talloc_new(NULL);
	MwTunnelOk *m = NULL;
	int p[2], fd = -1;
	char c = 0;

	ck_assert_int_eq(pipe(p), 0);
	send_tunnel_ok(&p[0], 1);
	close(p[0]);
	ck_assert_int_eq(ipc_recv_expect(sv[1], MW_TYPE__MW_TUNNEL_OK, &mw_tunnel_ok__descriptor,
					 MAX_PAYLOAD, mem, (void **)&m, &fd, 1, 1000),
			 0);
	ck_assert_str_eq(m->username, "alice");
	ck_assert_ptr_eq(talloc_parent(m), mem);
	ck_assert_int_eq(write(p[1], "y", 1), 1);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	close(fd);
	close(p[1]);

	/* Freeing the message frees everything it references. */
	talloc_free(m);
	ck_assert_uint_eq(talloc_total_blocks(mem), 1);
	talloc_free(mem);
}
END_TEST

START_TEST(test_expect_wrong_type)
{
	int p[2], fd = -1, before = count_fds();
	void *out = NULL;

	ck_assert_int_eq(pipe(p), 0);
	raw_send(MW_TYPE__MW_LOG, 1, 0, sizeof(log_payload), log_payload, sizeof(log_payload),
		 &p[0], 1);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(ipc_recv_expect(sv[1], MW_TYPE__MW_TUNNEL_OK, &mw_tunnel_ok__descriptor,
					 MAX_PAYLOAD, NULL, &out, &fd, 1, 1000),
			 -EBADMSG);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(count_fds(), before);

	/* Right type, wrong fd count. */
	send_log("x");
	ck_assert_int_eq(ipc_recv_expect(sv[1], MW_TYPE__MW_LOG, &mw_log__descriptor, MAX_PAYLOAD,
					 NULL, &out, &fd, 1, 1000),
			 -EBADF);
}
END_TEST

START_TEST(test_expect_timeout)
{
	struct timespec a, b;
	void *out = NULL;

	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(ipc_recv_expect(sv[1], MW_TYPE__MW_LOG, &mw_log__descriptor, MAX_PAYLOAD,
					 NULL, &out, NULL, 0, 100),
			 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 90);
	ck_assert_int_lt(ms, 2000);
	ck_assert_ptr_null(out);

	close(sv[0]);
	sv[0] = -1;
	ck_assert_int_eq(ipc_recv_expect(sv[1], MW_TYPE__MW_LOG, &mw_log__descriptor, MAX_PAYLOAD,
					 NULL, &out, NULL, 0, 1000),
			 -ECONNRESET);
}
END_TEST

int main(void)
{
	const struct check_test core[] = {
	    {test_round_trip_no_fd},
	    {test_round_trip_fd},
	    {test_send_queue},
	    {test_handler_keeps_message},
	    {test_handler_error},
	    {test_short_header},
	    {test_length_mismatch},
	    {test_oversized},
	    {test_send_oversized},
	    {test_send_missing_required},
	    {test_reserved_byte},
	    {test_unknown_type},
	    {test_wrong_state},
	    {test_once_twice},
	    {test_fd_count_mismatch},
	    {test_fd_closed_on_other_errors},
	    {test_missing_required},
	    {test_peer_closed},
	    {test_empty_nonblocking},
	    {test_expect_ok},
	    {test_expect_wrong_type},
	    {test_expect_timeout},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"core", setup, teardown, 0, core},
	    {NULL},
	};

	return check_main("ipc", cases);
}
