/* A send queue for the main <-> sec channel: a burst of new connections while sec is
 * busy (a slow password hash, a stalled disk) must wait, not end the server. */
#include "config.h"

#include "ipc/ipc.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct ipc_qmsg {
	struct ipc_qmsg *next;
	uint8_t *buf;
	size_t len;
	int fds[IPC_MAX_FDS];
	unsigned nfds;
};

static int qmsg_destructor(struct ipc_qmsg *e)
{
	if (e->buf)
		explicit_bzero(e->buf, e->len);
	for (unsigned i = 0; i < e->nfds; i++)
		close(e->fds[i]);
	return 0;
}

static void close_fds(const int *fds, unsigned nfds)
{
	for (unsigned i = 0; fds && i < nfds; i++)
		close(fds[i]);
}

int ipc_send_queued(int sock, struct ipc_queue *q, uint16_t type, const ProtobufCMessage *msg,
		    const int *fds, unsigned nfds)
{
	struct ipc_qmsg *e;
	int ret;

	if (!msg || nfds > IPC_MAX_FDS || (nfds && !fds)) {
		close_fds(fds, nfds > IPC_MAX_FDS ? IPC_MAX_FDS : nfds);
		return -EINVAL;
	}
	if (ipc_queue_empty(q)) {
		ret = ipc_send(sock, type, msg, fds, nfds);
		if (ret != -EAGAIN) {
			close_fds(fds, nfds);
			return ret;
		}
	}
	e = talloc_zero(NULL, struct ipc_qmsg);
	if (!e) {
		close_fds(fds, nfds);
		return -ENOMEM;
	}
	/* From here on the destructor closes them. A message without fds may come with
	 * fds == NULL, which memcpy() must not get even for 0 bytes. */
	if (nfds)
		memcpy(e->fds, fds, nfds * sizeof(*fds));
	e->nfds = nfds;
	talloc_set_destructor(e, qmsg_destructor);
	e->buf = ipc_pack(e, type, msg, nfds, &e->len);
	if (!e->buf) {
		ret = -errno;
		talloc_free(e);
		return ret;
	}
	if (q->bytes + e->len > q->limit) {
		talloc_free(e);
		return -ENOBUFS;
	}
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->bytes += e->len;
	q->count++;
	return 0;
}

int ipc_queue_flush(int sock, struct ipc_queue *q)
{
	while (q->head) {
		struct ipc_qmsg *e = q->head;
		int ret = ipc_send_packed(sock, e->buf, e->len, e->fds, e->nfds);

		if (ret < 0)
			return ret;
		q->head = e->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= e->len;
		q->count--;
		talloc_free(e); /* closes main's fds: the peer has its own now */
	}
	return 0;
}
