/* One request to main over a control channel and its replies, for every client of
 * main's control routes: sluicectl (a fresh connection per command) and sluice-manage
 * (one connection for its life). The replies go to the callbacks of a struct
 * ctl_reply until CTL_DONE. */
#ifndef SLUICE_CTL_EXCHANGE_H
#define SLUICE_CTL_EXCHANGE_H

#include <protobuf-c/protobuf-c.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipc/ctl.pb-c.h"
#include "ipc/ipc.h"

#define CTL_MAX_PAYLOAD 4096

/* What a caller wants done with each streamed reply; NULL: not expected (a reply of
 * that kind breaks the exchange). */
struct ctl_reply {
	void (*on_status)(const CtlStatus *s, void *data);
	void (*on_user)(const CtlUser *u, void *data);
	void (*on_event)(const CtlEvent *e, void *data);
	void (*on_ban)(const CtlBan *b, void *data);
	void (*on_session)(const CtlSession *s, void *data);
	void (*on_account)(const CtlAccount *a, void *data);
	void *data;
	/* filled from CTL_DONE */
	bool done;
	int error;
	char message[256];
	uint32_t count;
	unsigned replies; /* messages received, CTL_DONE included */
};

enum ctl_exchange_result {
	CTLX_OK = 0,           /* CTL_DONE came; r->error tells whether main refused */
	CTLX_INTERRUPTED = -1, /* *stop was set while waiting (a stream ends this way) */
	CTLX_TIMEOUT = -2,     /* no reply within the time given */
	CTLX_CLOSED = -3,      /* main closed the connection */
	CTLX_BAD_REPLY = -4,   /* a reply broke the contract (ipc_last_error() says how) */
	CTLX_SEND = -5,        /* the request could not be sent; a refusal may be in r */
};

/* Prepares ch for the replies of main on fd; peer names main in error texts. */
void ctl_channel_init(struct ipc_channel *ch, int fd, const char *peer);
/* Sends req and dispatches the replies into r until CTL_DONE. timeout_ms bounds the
 * wait for each reply, -1: none (a stream). stop, if not NULL, is checked whenever a
 * signal interrupts the wait. */
enum ctl_exchange_result ctl_exchange(struct ipc_channel *ch, uint16_t type,
				      const ProtobufCMessage *req, struct ctl_reply *r,
				      int timeout_ms, volatile sig_atomic_t *stop);

#endif
