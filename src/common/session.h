/* Facts about sessions that every role shares: why a session ends, and how a
 * worker exits. The numbers travel in IPC messages and appear in logs and docs. */
#ifndef SLUICE_SESSION_H
#define SLUICE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

/* The longest cookie a tunnel request (MW_TUNNEL_REQ) may carry; sec issues far shorter
 * ones, so a longer cookie is refused where it arrives. */
#define SESSION_COOKIE_MAX 256

enum sluice_end_reason {
	END_UNKNOWN = 0,
	END_USER_DISCONNECT = 1, /* client sent DISCONNECT 0xb0: cookie invalidated */
	END_CLIENT_CLOSED = 2,   /* TLS closed or reset; cookie stays valid */
	END_IDLE_TIMEOUT = 3,
	END_DPD_TIMEOUT = 4,
	END_SERVER_TERMINATE = 5,  /* main asked the worker to end it */
	END_ERROR = 6,             /* protocol or I/O error */
	END_WORKER_DIED = 7,       /* the worker exited without saying why */
	END_SESSION_REUSED = 8,    /* the same cookie opened a newer tunnel */
	END_SESSION_TIMEOUT = 9,   /* session-timeout since the login: cookie invalidated */
	END_QUOTA_EXCEEDED = 10,   /* session-quota-bytes used up: cookie invalidated */
	END_SESSION_REPLACED = 11, /* max-same-clients-policy = replace-oldest: a newer login
				    * of the user took its place; cookie invalidated */
};

const char *session_end_reason_str(unsigned reason);
/* True when a session that ends for reason is over for good: its cookie is invalidated,
 * and a tunnel request with it is refused from the moment main decides so. */
bool session_end_invalidates(unsigned reason);
/* session-quota-bytes: true once a session has moved more than quota bytes, earlier of
 * them in tunnels that ended and current in the one that is up (0: no quota). The sum
 * does not wrap. */
bool session_quota_exceeded(uint64_t quota, uint64_t earlier, uint64_t current);

/* Exit codes of sluice-worker; main logs them by name (doc/sluice-worker.md). */
enum worker_exit {
	WEXIT_OK = 0,             /* session or connection ended normally */
	WEXIT_USAGE = 2,          /* started by hand, not by sluiced */
	WEXIT_INIT_MSG = 10,      /* no valid start-up message on the main channel */
	WEXIT_TLS_INIT = 11,      /* GnuTLS or certificate set-up failed */
	WEXIT_PRIVDROP = 12,      /* setgroups/setresgid/setresuid failed */
	WEXIT_ROOT_REGAINED = 13, /* root could be regained after the drop: refuse to run */
	WEXIT_LIMITS = 14,        /* rlimits or prctl failed */
	WEXIT_SECCOMP = 15,       /* the seccomp filter could not be installed */
	WEXIT_IPC = 16,           /* main or sec broke the IPC contract or went away */
	WEXIT_CLIENT = 17,        /* the client broke the protocol or timed out */
	WEXIT_TUNNEL = 18,        /* tunnel refused or TUN I/O failed */
};

const char *worker_exit_str(int code);

#endif
