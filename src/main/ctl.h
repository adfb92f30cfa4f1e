/* main's control socket: sluicectl connects, its credentials are checked, it sends one
 * request and gets its reply streamed without ever blocking main. */
#ifndef SLUICE_MAIN_CTL_H
#define SLUICE_MAIN_CTL_H

#include <stddef.h>
#include <stdint.h>

struct main_ctx;
struct main_event;

/* Binds and listens at occtl-socket-file, owned by root with mode 0600, or 0660 and
 * the group occtl-socket-group. Returns 0 or a negative errno (logged). */
int main_ctl_start(struct main_ctx *m);
void main_ctl_stop(struct main_ctx *m);
/* The event sink: counts sessions and failures, feeds `show events` streams. */
void main_ctl_on_event(struct main_ctx *m, const struct main_event *ev);
struct MsSessionEntry;
struct MsSessionListEnd;
/* sec's answers to MS_SESSION_LIST, relayed to the control connection that asked. */
void main_ctl_session_entry(struct main_ctx *m, const struct MsSessionEntry *e);
void main_ctl_session_list_end(struct main_ctx *m, const struct MsSessionListEnd *end);

/* Who is at the other end of a control connection, which decides its routes. */
enum ctl_peer {
	CTL_PEER_ADMIN,  /* sluicectl on the control socket: every request */
	CTL_PEER_SNMP,   /* sluice-snmp: CTL_SHOW_STATUS and CTL_SHOW_USERS only */
	CTL_PEER_MANAGE, /* sluice-manage: sluicectl's requests but stop, each state-changing
			  * one after a CTL_ACTOR naming its caller */
};
/* A connection served on sock (accepted, or main's end of a socketpair; non-blocking);
 * exposed for the fuzz harness. uid: the peer's. */
struct main_ctl_conn *main_ctl_conn_new(struct main_ctx *m, int sock, uint32_t uid,
				       enum ctl_peer peer);
/* Handles what the peer sent; frees the connection when it is done or broke the
 * contract. Returns 0 while the connection lives, 1 when it was freed. */
int main_ctl_conn_readable(struct main_ctl_conn *c);
/* Serves sock (non-blocking, main's end of a socketpair with a child) for peer. Takes
 * sock; 0 or -errno. */
int main_ctl_conn_add_child(struct main_ctx *m, int sock, uint32_t uid, enum ctl_peer peer);

#endif
