#include "config.h"

#include "worker/tlsbuf.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t tlsbuf_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct tlsbuf *b = ptr;
	size_t n;

	if (b->in_off == b->in_len) {
		ssize_t r = recv(b->fd, b->in, TLSBUF_IN_CAP, 0);

		if (r <= 0)
			return r; /* errno tells GnuTLS about EAGAIN */
		b->in_off = 0;
		b->in_len = (size_t)r;
	}
	n = b->in_len - b->in_off < len ? b->in_len - b->in_off : len;
	memcpy(data, b->in + b->in_off, n);
	b->in_off += n;
	return (ssize_t)n;
}

int tlsbuf_flush(struct tlsbuf *b)
{
	while (b->out_off < b->out_len) {
		ssize_t r = send(b->fd, b->out + b->out_off, b->out_len - b->out_off, MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -EAGAIN : -errno;
		}
		b->out_off += (size_t)r;
	}
	b->out_off = b->out_len = 0;
	return 0;
}

static ssize_t tlsbuf_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct tlsbuf *b = ptr;

	if (b->out_len + len > TLSBUF_OUT_CAP) {
		int ret = tlsbuf_flush(b);

		/* Keep what is unsent at the start so the buffer can take more. */
		if (b->out_off) {
			memmove(b->out, b->out + b->out_off, b->out_len - b->out_off);
			b->out_len -= b->out_off;
			b->out_off = 0;
		}
		if (b->out_len + len > TLSBUF_OUT_CAP) {
			errno = ret < 0 && ret != -EAGAIN ? -ret : EAGAIN;
			return -1;
		}
	}
	memcpy(b->out + b->out_len, data, len);
	b->out_len += len;
	return (ssize_t)len;
}

int tlsbuf_install(struct tlsbuf *b, TALLOC_CTX *ctx, gnutls_session_t s, int fd)
{
	b->fd = fd;
	b->in = talloc_size(ctx, TLSBUF_IN_CAP);
	b->out = talloc_size(ctx, TLSBUF_OUT_CAP);
	if (!b->in || !b->out)
		return -ENOMEM;
	b->in_off = b->in_len = b->out_off = b->out_len = 0;
	gnutls_transport_set_ptr(s, b);
	gnutls_transport_set_pull_function(s, tlsbuf_pull);
	gnutls_transport_set_push_function(s, tlsbuf_push);
	return 0;
}

bool tlsbuf_has_input(const struct tlsbuf *b)
{
	return b->in_off < b->in_len;
}
