/* systemd integration: the notify protocol (READY, RELOADING, STOPPING, STATUS) and
 * socket activation. Without systemd (no NOTIFY_SOCKET, no LISTEN_FDS) every call is a
 * no-op, so callers need not check. */
#ifndef SLUICE_SYSTEMD_H
#define SLUICE_SYSTEMD_H

struct main_ctx;
struct main_event;

/* Takes the sockets systemd passed (sd_listen_fds): one TCP socket on tcp-port and, when
 * udp-port is set, one UDP socket on it. Returns how many it took (0: not socket
 * activated, main binds itself) or -errno when the passed sockets do not fit the
 * configuration. */
int systemd_listen_fds(struct main_ctx *m);

/* READY=1 with the current STATUS line: once listening, and after a reload. */
void systemd_ready(struct main_ctx *m);
/* RELOADING=1: a reload starts; systemd_ready() ends it. */
void systemd_reloading(struct main_ctx *m);
/* STOPPING=1: SIGTERM received. */
void systemd_stopping(struct main_ctx *m);
/* events.c sink: a new STATUS line when the number of sessions changes. */
void systemd_on_event(struct main_ctx *m, const struct main_event *ev);

#endif
