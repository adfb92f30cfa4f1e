/* The sec module: the only process that holds the server's private key and checks
 * passwords. Forked by main at start-up, before any network input; talks to main over
 * one socket pair and to each worker over the socket pair main hands it. */
#ifndef SLUICE_SEC_H
#define SLUICE_SEC_H

#include <ev.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/config.h"
#include "common/hash.h"
#include "ipc/ipc.h"

struct passwd_entry; /* common/passwd.h */

#define SEC_MAX_SIGNS  8  /* signatures one handshake may ask for */
#define SEC_COOKIE_LEN 32 /* random bytes; sent as 64 hex digits */
#define SEC_SID_LEN    12 /* hex digits of SHA-256(cookie) naming a session */
/* Sessions per MS_SESSION_LIST answer: far below what the non-blocking channel to main
 * queues, so that sec never finds it full. */
#define SEC_LIST_BATCH 32

/* What a user's and group's files set (config-per-user, config-per-group, ...). */
struct sec_user_conf {
	char *text;           /* the keys they set, as configuration text; "" for none */
	int max_same_clients; /* -1: the global value */
	int deny_roaming;     /* 0 or 1; -1: the global value */
	long session_timeout; /* seconds; -1: the global value */
	int same_clients_policy; /* enum config_same_clients_policy; -1: the global value */
};

/* Largest client certificate (DER) sec looks at. */
#define SEC_CERT_MAX 16384

/* ca-cert and crl, as sec read them (sec_cert.c). */
struct sec_cert_trust {
	gnutls_x509_trust_list_t list;
};

/* What sec made of a client certificate. */
struct sec_cert_id {
	bool ok;               /* signed by ca-cert, valid now, not revoked, names found */
	uint8_t sha256[32];    /* of the DER: the session is bound to it */
	char subject[256];     /* its DN, for logs and sluicectl */
	char *user, *group;    /* from cert-user-oid and cert-group-oid */
};

struct sec_session {
	UT_hash_handle hh_sid, hh_cookie; /* sec->sessions_by_sid, sessions_by_cookie */
	struct sec_ctx *sec;
	char sid[SEC_SID_LEN + 1];
	uint8_t cookie_hash[32]; /* SHA-256 of the cookie text; the cookie is not kept */
	char *username;
	char *groupname;
	char *auth_ip; /* where the password was checked (deny-roaming) */
	time_t created;  /* the login; session-timeout counts from here */
	time_t deadline; /* created + session-timeout; 0: none */
	struct sec_user_conf conf;
	char *auth_methods;      /* "password", "certificate" or "certificate+password", with
				  * "+otp" after a one-time password */
	char *cert_subject;      /* with a certificate: its DN */
	bool has_cert;           /* the session is bound to cert_sha256 */
	uint8_t cert_sha256[32];
	uint32_t in_use_by; /* worker id with a live tunnel, 0 when none; set only by
			     * sec_sessions.c, which counts it in sec->users_in_use */
	/* max-same-clients-policy = replace-oldest took the session's place for a newer
	 * login: it no longer counts, its cookie is refused, main ends its tunnel. */
	bool replaced;
	uint64_t login_seq; /* logins are numbered: the oldest has the smallest */
	struct sec_session *use_next, *use_prev; /* its user's sessions that count (utlist) */
	ev_timer expiry;
};

/* How many sessions of one user are in use (max-same-clients), and which; only users
 * with one. */
struct sec_user_count {
	UT_hash_handle hh;
	char *username;
	unsigned in_use;
	struct sec_session *sessions; /* the in_use sessions, by use_next/use_prev */
};

/* A server key; the current and the previous generation are kept so that a worker
 * handed the old certificate before a reload still gets signatures from its key. */
struct sec_key {
	uint32_t generation;
	gnutls_privkey_t key;
	gnutls_pk_algorithm_t pk;
	gnutls_ecc_curve_t curve; /* ECDSA keys; else 0 */
};

/* What the configured tls-priorities let a handshake sign (sec_sign.c). */
struct sec_sign_policy {
	uint64_t algos; /* bit n: gnutls_sign_algorithm_t n is enabled */
	bool tls10;     /* TLS 1.0 or 1.1 is enabled */
};

enum sec_worker_state {
	SECW_HANDSHAKE = 1 << 0,
	SECW_AUTH = 1 << 1,
	SECW_DONE = 1 << 2,
	SECW_MORE = 1 << 3, /* a second form is out (one-time password, backend's prompt) */
	SECW_WAIT = 1 << 4, /* an auth helper works on the login (sec_helpers.c) */
};

/* An auth helper as sec sees it (sec_helpers.c; its states are SAS_ there). */
struct sec_helper {
	struct sec_helper *next, *prev; /* sec->helpers (utlist) */
	struct sec_ctx *sec;
	pid_t pid;
	unsigned state;
	struct ipc_channel ch;
	ev_io io;
	ev_timer timer;       /* the bound of the step it is in; stopped when idle */
	struct sec_worker *w; /* whose login it serves; NULL when idle */
};

struct sec_worker {
	struct sec_worker *next, *prev; /* sec->workers (utlist) */
	struct sec_ctx *sec;
	uint32_t id;
	uint32_t pid;
	char *client_ip;
	unsigned client_port;
	enum sec_worker_state state;
	struct sec_key *key; /* a talloc reference: outlives a reload */
	unsigned signs;
	unsigned tries;
	bool has_cert;            /* the client presented a certificate in the handshake */
	struct sec_cert_id cert;  /* sec's verdict on it (cert.ok) */
	const char *cert_why;     /* why it was refused; NULL when cert.ok */
	char *otp_user;           /* SECW_MORE: whose password passed, */
	char *otp_group;          /* the group it picked, */
	char *otp_methods;        /* and how ("password", "certificate+password") */
	/* A login in an auth helper's hands (sec_helpers.c): what the form carried, and the
	 * helper that serves it, or the place in the queue for one. */
	char *be_user, *be_group, *be_password;
	/* plain auth: the hash the helper checks the password against (the user's, or the
	 * dummy one), the verdict sec reached from the file alone (NULL: the hash decides),
	 * and the user's entry (its groups). */
	char *be_hash;
	const char *be_why;
	struct passwd_entry *be_entry;
	const char *be_conf; /* settings the backend sent (sec_backend_conf), for admit() */
	struct sec_helper *helper;
	struct sec_worker *qnext, *qprev; /* sec->login_queue (utlist) */
	bool queued;
	ev_tstamp queued_at;
	bool backend_failed; /* the last verdict was the backend's failure, not the user's */
	struct ipc_channel ch;
	ev_io io;
};

/* Bytes either side of the main <-> sec channel holds back for a peer that is busy
 * (about 100,000 new-connection messages); a peer that falls this far behind is stuck,
 * and the sender exits. */
#define SEC_QUEUE_LIMIT (16u * 1024 * 1024)

/* A token's certificate as PEM fits in one message to main (its channel takes 16 KiB). */
#define SEC_TOKEN_CERT_MAX (12 * 1024)

struct sec_ctx {
	struct ev_loop *loop;
	struct sluice_config *cfg;
	struct sec_key *key;      /* newest generation */
	struct sec_key *prev_key; /* the one before; NULL until a reload */
	struct sec_sign_policy sign_policy;
	struct ipc_channel main_ch;
	ev_io main_io;
	struct ipc_queue main_q; /* what main has not taken yet */
	ev_io main_wio;
	struct sec_worker *workers;
	/* Every session is in both tables: a cookie check finds it by the hash of the cookie,
	 * main's messages by its sid, in constant time whatever the number of sessions. */
	struct sec_session *sessions_by_sid, *sessions_by_cookie;
	struct sec_user_count *users_in_use;
	uint64_t login_seq; /* of the newest session */
	struct sec_cert_trust *trust; /* ca-cert and crl; NULL: no certificate authentication */
	int otp_fd;                   /* channel to the OTP helper; -1: none (sec_otp.c) */
	pid_t otp_pid;
	char *token_cert; /* server-cert read from its token at start-up, for main; else NULL */
	size_t token_cert_len;
	/* auth helpers (sec_helpers.c): the launcher's channel (-1: none), the helpers, the
	 * logins that wait for one */
	int launcher_fd;
	pid_t launcher_pid;
	struct sec_helper *helpers;
	unsigned n_helpers;
	struct sec_worker *login_queue;
	unsigned n_queued;
	ev_timer queue_timer;
	struct sec_acct *acct; /* accounting (sec_acct.c); NULL: none */
	int dae_fd;            /* the DAE helper's channel (sec_dae.c); -1: none */
	pid_t dae_pid;
	struct ipc_channel dae_ch;
	ev_io dae_io;
	ev_timer dae_restart;
	unsigned dae_state;
	uint32_t dae_request; /* the request main is working on */
};

/* Runs the sec module; never returns. cert_pem is server-cert as main read it (NULL when
 * it is in a token). */
void sec_run(struct sluice_config *cfg, const char *cert_pem, size_t cert_len, int main_fd)
    __attribute__((noreturn));

/* sec_privdrop.c: empties every capability set (the bounding set when CAP_SETPCAP
 * allows it), sets no-new-privs and no-dump, and proves that no capability is left. 0,
 * 1 when the bounding set stayed (no CAP_SETPCAP), or a negative errno: then sec must
 * not go on. */
int sec_privdrop(void);
/* sec_sandbox.c: installs sec's seccomp filter (default action: kill). No-new-privs
 * must be set already (-EPERM otherwise). */
int sec_sandbox_install(void);
/* The OTP helper's filter (sec_sandbox.c): what checking a code and writing the users
 * file back takes. */
int sec_otp_sandbox_install(void);
/* A RADIUS auth helper's filter (sec_sandbox.c), once it runs as run-as-user. */
int auth_radius_sandbox_install(void);
/* An LDAP auth helper's filter (sec_sandbox.c), once it runs as run-as-user. */
int auth_ldap_sandbox_install(void);
/* The filter of an auth helper that checks plain auth's password hashes (sec_sandbox.c),
 * once it runs as run-as-user: its channel, memory, its alarm and the log. */
int auth_hash_sandbox_install(void);

/* sec_keys.c */
int sec_keys_load(struct sec_ctx *sec);
/* After sec_keys_load: reads server-cert from its token when it is in one (into
 * token_cert), else takes cert_pem, and checks that the key is the certificate's. 0, or
 * -EINVAL (logged). */
int sec_keys_check_cert(struct sec_ctx *sec, const char *cert_pem, size_t len);
struct sec_key *sec_key_for(struct sec_ctx *sec, uint32_t generation);
int sec_on_reload(void *ctx, void *msg, int *fds);

/* sec_sign.c */
/* The policy for a tls-priorities string; -EINVAL (why in err) when GnuTLS rejects it. */
int sec_sign_policy_set(struct sec_sign_policy *p, const char *priorities, char *err,
			size_t errlen);
/* NULL when sec may sign data (len bytes) with k for a worker asking for algo with
 * flags; else why not. */
const char *sec_sign_check(const struct sec_sign_policy *p, const struct sec_key *k, unsigned algo,
			   unsigned flags, const uint8_t *data, size_t len);
int sec_on_sign_req(void *ctx, void *msg, int *fds);

/* sec_cert.c */
/* Reads ca_file (and crl_file, may be NULL) into sec->trust, replacing what was there only
 * on success; NULL ca_file turns certificate authentication off. 0, -EINVAL (err set),
 * -ENOMEM. */
int sec_certs_load(struct sec_ctx *sec, const char *ca_file, const char *crl_file, char *err,
		   size_t errlen);
/* sec_certs_load with the configuration's ca-cert and crl when certificate
 * authentication is on (errors logged). */
int sec_certs_reload(struct sec_ctx *sec);
/* Checks a client certificate (DER) against sec->trust and the configuration's
 * cert-user-oid and cert-group-oid. NULL and id->ok when it passes (names under ctx);
 * else the reason, for the log and the audit file. */
const char *sec_cert_check(struct sec_ctx *sec, TALLOC_CTX *ctx, const uint8_t *der, size_t len,
			   struct sec_cert_id *id);

/* sec_otp.c */
/* With plain[otp=FILE], forks the OTP helper (before any key is loaded) and keeps its
 * channel in sec->otp_fd; else sets it to -1. 0 or a negative errno (logged). */
int sec_otp_start(struct sec_ctx *sec);
/* Asks the helper whether code is user's next one-time password and has it recorded as
 * used. NULL when it passes, else why not (under tmp, or static): SEC_OTP_FILE_ERROR
 * when the file or the helper failed (the details logged), which is no fault of the
 * client's. The file's bad lines are logged. */
#define SEC_OTP_FILE_ERROR "OTP file error"
const char *sec_otp_check(struct sec_ctx *sec, TALLOC_CTX *tmp, const char *user,
			  const char *code);

/* sec_helpers.c */
/* Logins that wait for a free auth helper, beyond which a login is refused at once. */
#define SEC_LOGIN_QUEUE_MAX 256
/* No launcher (launcher_fd -1) and the queue's timer ready; sec_helpers_start begins
 * with it, and a test that plays the launcher calls it, then sets launcher_fd. */
void sec_helpers_init(struct sec_ctx *sec);
/* Before sec drops its capabilities: forks the auth helper launcher when a backend
 * needs it. 0 or a negative errno (logged). */
int sec_helpers_start(struct sec_ctx *sec);
/* Hands w's login (user, password, the group asked for) to an auth helper; the verdict
 * comes later through sec_auth_backend_prompt and sec_auth_backend_done. */
int sec_helpers_login(struct sec_worker *w, const char *user, const char *password,
		      const char *group);
/* plain auth: hands an auth helper the check of w's password against hash (the user's
 * from the password file, or the dummy one); the verdict comes back in
 * sec_auth_hash_done(), or as a failed login when no helper answers. why: the verdict
 * the file alone settled (unknown user, locked), which the hash only hides; entry: the
 * user's (moves under w). */
int sec_helpers_hash(struct sec_worker *w, const char *user, const char *password,
		     const char *group, const char *hash, const char *why,
		     struct passwd_entry *entry);
/* The user's answer to the helper's prompt. */
int sec_helpers_answer(struct sec_worker *w, const char *answer);
/* w goes away: its helper ends the login (and exits), or its place in the queue goes. */
void sec_helpers_cancel(struct sec_worker *w);
/* A new helper of kind from the launcher: its channel and pid. 0, or a negative errno
 * (logged; the launcher is then given up). */
enum sec_helper_kind { SEC_HELPER_LOGIN, SEC_HELPER_ACCT, SEC_HELPER_DAE };
int sec_launcher_spawn(struct sec_ctx *sec, enum sec_helper_kind kind, int *fd, pid_t *pid);

/* sec_dae.c: the RADIUS Disconnect/CoA listener (radius-dae-listen), a helper whose
 * checked requests sec relays to main; started once the loop runs, started again when
 * it dies. */
int sec_dae_start(struct sec_ctx *sec);
int sec_on_dae_result(void *ctx, void *msg, int *fds);

/* sec_acct.c: accounting records from main (acct = radius[...]), queued (at most
 * SEC_ACCT_QUEUE_MAX) and sent one at a time by the accounting helper, each tried up
 * to SEC_ACCT_TRIES times. */
#define SEC_ACCT_QUEUE_MAX 100000
#define SEC_ACCT_TRIES     3
struct sec_acct;
void sec_acct_init(struct sec_ctx *sec);
int sec_on_acct(void *ctx, void *msg, int *fds);
int sec_on_acct_flush(void *ctx, void *msg, int *fds);

/* sec_auth.c */
/* A backend asks the user something more (SECW_WAIT -> SECW_MORE). */
int sec_auth_backend_prompt(struct sec_worker *w, const char *text, bool echo);
/* A backend's verdict on w's login: ok with the user's groups, or why not (backend_error:
 * not the user's fault). */
int sec_auth_backend_done(struct sec_worker *w, bool ok, const char *why, bool backend_error,
			  char **groups, size_t n_groups, const char *conf);
/* An auth helper's answer to sec_helpers_hash(): whether the password matched. */
int sec_auth_hash_done(struct sec_worker *w, bool match);
int sec_on_cert_login(void *ctx, void *msg, int *fds);
int sec_on_handshake_done(void *ctx, void *msg, int *fds);
int sec_on_auth_req(void *ctx, void *msg, int *fds);
int sec_on_answer_req(void *ctx, void *msg, int *fds);

/* sec_sessions.c */
/* A session for a login, with what the user's and group's files set (conf's text
 * moves under the session). */
struct sec_session *sec_session_new(struct sec_ctx *sec, const char *user, const char *group,
				    const char *ip, struct sec_user_conf *conf,
				    char cookie_hex[2 * SEC_COOKIE_LEN + 1]);
/* sec_userconf.c: reads a user's and group's files, text allocated under ctx. 0, or
 * -EINVAL when one is invalid or unreadable (logged): the login must fail. */
int sec_user_config(struct sec_ctx *sec, TALLOC_CTX *ctx, const char *user, const char *group,
		    const char *backend, struct sec_user_conf *out);
/* sec_backend_conf.c: what a RADIUS Access-Accept said (r), checked value by value, as
 * per-user settings text over the user's files (under ctx; "" when nothing). Values that
 * do not parse are dropped with a log line. */
struct SaResult;
char *sec_backend_conf(TALLOC_CTX *ctx, const char *user, const struct SaResult *r);
/* The limits these files set, else the global ones. */
unsigned sec_max_same_clients(const struct sec_ctx *sec, const struct sec_user_conf *uc);
bool sec_deny_roaming(const struct sec_ctx *sec, const struct sec_user_conf *uc);
unsigned sec_session_timeout(const struct sec_ctx *sec, const struct sec_user_conf *uc);
enum config_same_clients_policy sec_same_clients_policy(const struct sec_ctx *sec,
							const struct sec_user_conf *uc);

/* Sessions of user in use (with a tunnel or reserved for one), except one. */
unsigned sec_sessions_in_use(struct sec_ctx *sec, const char *user,
			     const struct sec_session *except);
/* max-same-clients-policy = replace-oldest: replaces user's oldest sessions in use that
 * logged in before newer (NULL: a login that has no session yet) until fewer than max
 * are left; sec refuses their cookies from now on and main ends their tunnels
 * (MS_SESSION_REPLACE). False when that many cannot be replaced (nothing is then). */
bool sec_sessions_make_room(struct sec_ctx *sec, const char *user, unsigned max,
			    const struct sec_session *newer);
int sec_on_cookie_check(void *ctx, void *msg, int *fds);
int sec_on_worker_cookie_check(void *ctx, void *msg, int *fds);
int sec_on_session_up(void *ctx, void *msg, int *fds);
int sec_on_session_down(void *ctx, void *msg, int *fds);
int sec_on_session_list(void *ctx, void *msg, int *fds);

/* sec.c; the route table is public for the unit tests of the sign/auth states. */
extern const struct ipc_route sec_from_worker[];
extern const size_t sec_from_worker_n;
void sec_send_main(struct sec_ctx *sec, uint16_t type, const ProtobufCMessage *msg);
/* Handles what w has sent and sec has not read yet; w may be freed. */
void sec_worker_poll(struct sec_worker *w);

#endif
