/* main's listeners. Every client costs main descriptors (the client socket until its
 * worker has it, two channels while the worker starts, then one channel, the TUN device,
 * and for a moment the DTLS socket it hands over). When they run out, main stops
 * accepting for a while instead of retrying a failing accept() in a busy loop; new
 * connections wait in the kernel's backlog. */
#ifndef SLUICE_LISTENERS_H
#define SLUICE_LISTENERS_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct main_ctx;

/* Descriptors main holds per connected client: the worker's channel; the TUN device is
 * the kernel's to keep once the worker has it (tests/integration/test-fd-exhaustion.sh
 * measures it). */
#define MAIN_FDS_PER_CLIENT 1

/* Binds tcp-port and udp-port, or takes the sockets systemd passed. 0 or -errno (logged). */
int main_listen(struct main_ctx *m);
/* Watches the listeners and sets descriptors aside for the time they run out. */
int main_listeners_start(struct main_ctx *m);
/* A new client connection, from peer (the client itself, or whom a PROXY header named)
 * to local: bans, the budget of connections still logging in (preauth.h), then a
 * worker. balancer: the load balancer's own connection (a PROXY LOCAL header), which
 * scores no ban points. Takes fd. false: descriptors ran out, accept no more for now. */
bool main_admit_connection(struct main_ctx *m, int fd, const struct sockaddr_storage *peer,
			   const struct sockaddr_storage *local, bool balancer);
/* server-drain-ms: the TCP listeners close for good. */
void main_listeners_close(struct main_ctx *m);
/* Logs the descriptor limit and warns when max-clients needs more descriptors than it. */
void main_fd_budget_check(struct main_ctx *m);
/* err (a negative errno) from creating a descriptor: when it says descriptors or memory
 * ran out, main stops accepting connections for a while and lets go of the descriptors
 * it set aside, so that the control socket and the clients already logging in go on;
 * io (may be NULL), an accepting watcher that would fail again at once, is paused as
 * well. Returns whether err was such a shortage. */
bool main_fd_shortage(struct main_ctx *m, ev_io *io, int err);
/* For the metrics page: how often main ran short (once per log line). */
uint64_t main_fd_shortages(const struct main_ctx *m);

#endif
