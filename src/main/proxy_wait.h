/* listen-proxy-proto: a connection from the load balancer waits here, without a worker,
 * until its PROXY header (proxy_proto.h) has arrived; then it is admitted under the
 * client's own address. Bounded: PROXY_WAIT_SECS for the header, PROXY_WAIT_MAX
 * connections waiting (a new one ends the oldest), nothing read beyond the header. */
#ifndef SLUICE_PROXY_WAIT_H
#define SLUICE_PROXY_WAIT_H

#include <stdbool.h>
#include <sys/socket.h>

struct main_ctx;

#define PROXY_WAIT_SECS 5.
#define PROXY_WAIT_MAX  256

/* What happens to a connection once its header came (listeners.c's
 * main_admit_connection): it takes fd, and the client's addresses; balancer: a LOCAL
 * header, the socket's own addresses. */
typedef bool (*main_proxy_admit_fn)(struct main_ctx *m, int fd, const struct sockaddr_storage *peer,
				    const struct sockaddr_storage *local, bool balancer);

/* Takes fd, accepted from peer on local; admit gets it once its header came. 0, or
 * -ENOMEM (fd closed). */
int main_proxy_wait(struct main_ctx *m, int fd, const struct sockaddr_storage *peer,
		    const struct sockaddr_storage *local, main_proxy_admit_fn admit);
/* Closes every connection still waiting (server shutdown). */
void main_proxy_close_all(struct main_ctx *m);

#endif
