/* main's listeners: the TCP socket connections are accepted on, and the UDP one. */
#ifndef SLUICE_LISTENERS_H
#define SLUICE_LISTENERS_H

struct main_ctx;

/* Binds tcp-port and udp-port, or takes the sockets systemd passed. 0 or -errno (logged). */
int main_listen(struct main_ctx *m);
/* Watches the listeners, once the event loop exists. */
int main_listeners_start(struct main_ctx *m);
/* server-drain-ms: the TCP listeners close for good. */
void main_listeners_close(struct main_ctx *m);

#endif
