/* listen-proxy-proto: a connection from the load balancer waits here, without a worker,
 * until its PROXY header (proxy_proto.h) has arrived; then it is admitted under the
 * client's own address. Bounded: PROXY_WAIT_SECS for the header, PROXY_WAIT_MAX
 * connections waiting (a new one ends the oldest), nothing read beyond the header. */
#ifndef SLUICE_PROXY_WAIT_H
#define SLUICE_PROXY_WAIT_H

#include <sys/socket.h>

struct main_ctx;

#define PROXY_WAIT_SECS 5.
#define PROXY_WAIT_MAX  256

/* Takes fd, accepted from peer on local. 0, or -ENOMEM (fd closed). */
int main_proxy_wait(struct main_ctx *m, int fd, const struct sockaddr_storage *peer,
		    const struct sockaddr_storage *local);
/* Closes every connection still waiting (server shutdown). */
void main_proxy_close_all(struct main_ctx *m);

#endif
