/* Feeds one datagram to the receiving end of a main<->worker channel.
 *
 * Input: byte 0 selects how (bit 0: attach one fd, bit 1: attach two, bits 2-3: the
 * receiver's state, bit 4: send the datagram twice, bit 5: receive with
 * ipc_recv_expect() instead of the route table); the rest is the datagram, header
 * included. Aborts if any fd is left open afterwards. */
#include "config.h"
#include "fuzz_input.h"
#include "ipc/ipc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/main_worker.pb-c.h"

#define ST_AUTH     (1u << 0)
#define ST_WAIT     (1u << 1)
#define ST_TUNNEL   (1u << 2)
#define MAX_PAYLOAD 2048

static int on_log(void *ctx, void *msg, int *fds)
{
	MwLog *m = msg;

	return strlen(m->text) > 0 && m->priority < 8 ? 0 : -EINVAL;
}

static int on_tunnel_req(void *ctx, void *msg, int *fds)
{
	MwTunnelReq *m = msg;
	size_t n = m->cookie.len;

	if (m->hostname)
		n += strlen(m->hostname);
	if (m->user_agent)
		n += strlen(m->user_agent);
	if (m->requested_ipv4)
		n += strlen(m->requested_ipv4);
	return n > 0 ? 0 : -EINVAL;
}

static int on_stats(void *ctx, void *msg, int *fds)
{
	MwStats *m = msg;

	return m->bytes_in + m->bytes_out + m->spoofed_dropped > 0 ? 0 : 1;
}

static int on_session_end(void *ctx, void *msg, int *fds)
{
	MwSessionEnd *m = msg;

	return m->text && strlen(m->text) > 0 ? 0 : (int)(m->reason & 1);
}

/* What main accepts from a worker. */
static const struct ipc_route routes[] = {
    {MW_TYPE__MW_LOG, "MW_LOG", &mw_log__descriptor, on_log, 0, IPC_ANY_STATE, 0},
    {MW_TYPE__MW_TUNNEL_REQ, "MW_TUNNEL_REQ", &mw_tunnel_req__descriptor, on_tunnel_req, 0, ST_AUTH,
     IPC_ONCE},
    {MW_TYPE__MW_STATS, "MW_STATS", &mw_stats__descriptor, on_stats, 0, ST_TUNNEL, 0},
    {MW_TYPE__MW_SESSION_END, "MW_SESSION_END", &mw_session_end__descriptor, on_session_end, 0,
     ST_TUNNEL, IPC_ONCE},
};

static int send_datagram(int sock, const uint8_t *data, size_t size, const int *fds, unsigned nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2)] __attribute__((aligned(8))) = {0};
	struct iovec iov = {.iov_base = (void *)data, .iov_len = size};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &mh, MSG_DONTWAIT) < 0 ? -1 : 0;
}

static void receive(int sock, uint8_t mode)
{
	static const uint32_t states[] = {ST_AUTH, ST_WAIT, ST_TUNNEL, IPC_ANY_STATE};
	uint32_t state = states[(mode >> 2) & 3];

	if (mode & 0x20) {
		TALLOC_CTX *mem = talloc_new(NULL);
		void *out = NULL;
		int fds[1];

		if (ipc_recv_expect(sock, MW_TYPE__MW_TUNNEL_REQ, &mw_tunnel_req__descriptor,
				    MAX_PAYLOAD, mem, &out, fds, mode & 1, 0) == 0) {
			on_tunnel_req(NULL, out, NULL);
			if (mode & 1)
				close(fds[0]);
		}
		talloc_free(mem);
		return;
	}

	struct ipc_channel ch;

	ipc_channel_init(&ch, sock, routes, sizeof(routes) / sizeof(routes[0]), MAX_PAYLOAD,
			 "worker 1");
	for (int i = 0; i < 3; i++) {
		int ret = ipc_recv_dispatch(&ch, state, NULL);

		if (ret == -EAGAIN || ret == IPC_CLOSED)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], p[2];
	unsigned nfds;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;

	int before = fuzz_count_fds();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	nfds = (mode & 1) + ((mode >> 1) & 1);
	int fds[2] = {p[0], p[1]};

	if (send_datagram(sv[0], data, size, fds, nfds) == 0 && (mode & 0x10))
		send_datagram(sv[0], data, size, fds, nfds);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	receive(sv[1], mode);
	close(sv[1]);
	if (fuzz_count_fds() != before)
		abort();
	return 0;
}
