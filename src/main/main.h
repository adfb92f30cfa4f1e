/* sluiced main: the root process. It owns the listeners, the TUN devices, the IP leases
 * and the registry of workers and their sessions. Of a client's bytes it reads only the
 * PROXY header (proxy_proto.h) and a DTLS ClientHello's session id (dtls_hello.h). */
#ifndef SLUICE_MAIN_H
#define SLUICE_MAIN_H

#include <ev.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "common/config.h"
#include "common/hash.h"
#include "common/netaddr.h"
#include "ipc/ipc.h"
#include "main/lease.h"

#define MAIN_MAX_LISTENERS 4
#define MAIN_DTLS_ID_LEN   32 /* the App-ID main gives each tunnel */
/* A worker's label: "worker " PID " (" user "@[" IPv6 "]:" port ")"; a longer user
 * name is cut to MAIN_LABEL_USER_MAX. */
#define MAIN_LABEL_USER_MAX 48
#define MAIN_LABEL_MAX      (30 + MAIN_LABEL_USER_MAX + INET6_ADDRSTRLEN)

struct main_template;
struct main_session;
struct filter_profile;

/* Why a worker template was replaced by a new one (spawn.c). */
enum main_rotation {
	MAIN_ROTATION_FORKS, /* worker-template-max-forks reached */
	MAIN_ROTATION_CRASH, /* one of its workers crashed before authentication */
	MAIN_N_ROTATIONS,
};

/* Where a worker is, named for what main waits for; session_setup.h shows what moves
 * it on. They are bits, as the worker channel's route table allows a message in a set. */
enum main_worker_state {
	MWS_AUTH = 1 << 0,        /* the worker authenticates its client */
	MWS_COOKIE = 1 << 1,      /* tunnel requested; sec checks the cookie */
	MWS_PREDECESSOR = 1 << 2, /* an older tunnel of the same cookie must end first */
	MWS_SCRIPT = 1 << 3,      /* the TUN device exists; connect-script decides */
	MWS_TUNNEL = 1 << 4,      /* up: the worker holds the TUN device */
	MWS_ENDED = 1 << 5,       /* ending: told to, said so, or its set-up failed */
};
#define MWS_SETUP (MWS_COOKIE | MWS_PREDECESSOR | MWS_SCRIPT)
/* What max-clients counts: a tunnel up, or one being set up. */
#define MWS_HOLDS_ROOM (MWS_SETUP | MWS_TUNNEL)

struct main_worker {
	struct main_worker *next, *prev; /* m->workers (utlist: head->prev is the tail) */
	struct main_ctx *m;
	uint32_t id;
	pid_t pid;
	enum main_worker_state state;
	struct ipc_channel ch;
	ev_io io;
	char client_ip[INET6_ADDRSTRLEN];
	unsigned client_port;
	char local_ip[INET6_ADDRSTRLEN];
	unsigned local_port;
	char label[MAIN_LABEL_MAX]; /* "worker PID (user@ip:port)" for logs */
	uint32_t cert_gen; /* of the certificate it was sent; sec signs with that key */

	/* the tunnel request, kept while sec checks the cookie */
	char *hostname;
	char *user_agent;
	char *device_type;     /* X-AnyConnect-Identifier-DeviceType; "" when not sent */
	char *device_platform; /* X-AnyConnect-Identifier-Platform; "" when not sent */
	struct in_addr requested;
	bool has_requested;
	struct in6_addr requested6;
	bool has_requested6;
	bool wants_ipv6; /* the client takes an IPv6 address */
	unsigned mtu;
	unsigned base_mtu; /* the link MTU that mtu was derived from */

	/* the session, once sec approved its cookie */
	struct sluice_config *cfg; /* global configuration with the user's and group's files */
	struct lease_pool *pool;   /* where its address comes from (cfg's ipv4-network); NULL: none */
	struct lease_pool *pool6;  /* cfg's ipv6-network; NULL: no IPv6 for the session */
	char *sid;
	char *username;
	char *groupname;
	char *auth_methods;        /* how it logged in, from sec */
	char *cert_subject;        /* its client certificate's DN, when one was used */
	char device[IFNAMSIZ];
	struct in_addr vpn_ip;     /* valid with pool */
	struct in6_addr vpn_ip6;   /* valid with pool6; its prefix is cfg->ipv6_subnet_prefix */
	int tun_fd;                /* main's descriptor of the device until the handover */
	bool tun_up;               /* device is this session's (persistent) TUN device */
	time_t started;
	uint64_t bytes_in, bytes_out, spoofed;
	uint64_t route_dropped; /* packets outside its routes (restrict-user-to-routes) */
	time_t login;           /* when sec accepted the password (a reconnect keeps it) */
	time_t deadline;        /* session-timeout ends the session then; 0: none */
	ev_timer session_timer; /* runs while the tunnel is up and deadline is set */
	ev_timer acct_timer;    /* interim accounting records while the tunnel is up */
	ev_timer quota_timer;   /* session-quota-bytes: checks the TUN device's counters */
	uint64_t quota_before;  /* bytes of the session's earlier tunnels (sessions.h) */
	unsigned end_reason;     /* decided by main: terminate, timeout, re-use */
	unsigned claimed_reason; /* what the worker said, if it may say so */
	bool handed_over;        /* the worker got the TUN device (MW_TUNNEL_OK) */
	bool iroutes_on;         /* its iroutes are routed to its device */
	struct filter_profile *filter_profile; /* filter.c: its device's policy, once installed */
	ev_timer kill_timer;     /* after a terminate: SIGKILL when the worker lingers */
	struct main_worker *successor; /* waits for this one to end (cookie re-use) */
	struct main_worker *predecessor; /* the one this one waits for */
	int sec_end;                   /* sec's end of the worker's channel, until it runs */
	uint8_t dtls_id[MAIN_DTLS_ID_LEN]; /* App-ID / Session-ID of the current tunnel */
	bool has_dtls_id;
	ev_tstamp last_udp_handoff;
	ev_tstamp spawned;             /* accepted; metrics measure session set-up from here */
	bool dtls;                     /* the last MW_STATS named a DTLS cipher */
	char tls_cipher[96];           /* from MW_STATS, for sluicectl show user */
	char dtls_cipher[96];
	char cstp_comp[8];             /* compression method per channel; "" none */
	char dtls_comp[8];
	bool mobile;                   /* the client says it is a mobile (mobile-dpd) */
	ev_tstamp log_window;          /* workers.c: start of its log-rate window */
	unsigned log_lines, log_dropped; /* lines in the window, lines dropped since */
	uint32_t template_gen;           /* spawn.c: the template that forked it; 0: exec'd */
	bool authenticated;              /* sec accepted its password or its cookie */
	/* preauth.c: counted as logging in, under its address's key, oldest first */
	bool preauth;
	struct netaddr preauth_key;
	ev_timer preauth_timer;
	struct main_worker *pa_prev, *pa_next;
	uint32_t signals_sent;           /* bit 1 << n: main sent it signal n */
	/* worker_index.c: main's indexes; keys are the fields id, pid, dtls_id and sid */
	UT_hash_handle hh_id, hh_pid, hh_dtls, hh_sid;
};

struct main_ctx {
	struct ev_loop *loop;
	struct sluice_config *cfg;
	char *worker_path;
	char *passwd_tool;               /* sluice-passwd, for the management API's accounts */
	char *cert_pem;
	size_t cert_pem_len;
	char *client_ca_pem;             /* reload.c: ca-cert for workers; NULL: not asked */
	size_t client_ca_pem_len;
	uint8_t *ocsp_der;               /* reload.c: ocsp-response for workers; NULL: none */
	size_t ocsp_der_len;
	struct main_profile *profile;    /* profile.c: user-profile for workers; NULL: none */
	struct main_auto_groups *auto_groups; /* groups.c: auto-select-group; NULL: off */
	pid_t sec_pid;
	bool sec_failed;        /* the sec channel closed or broke: main exits 1 */
	bool stopping;          /* sluiced stops: sessions end for that (acct.c) */
	bool acct_flushing;     /* acct.c: main waits for sec's MS_ACCT_FLUSHED */
	ev_timer acct_flush_timer;
	ev_timer reap_timer;   /* tun_reap.c: deletes the retired TUN devices */
	unsigned reap_pending; /* devices retired and not deleted yet */
	struct ipc_channel sec_ch;
	ev_io sec_io;
	struct ipc_queue sec_q; /* what sec has not taken yet; sent when it can */
	const struct sec_replies *sec_replies; /* sec_channel.h */
	const struct main_event_sinks *sinks;  /* events.h */
	ev_io sec_wio;
	int listen_fd[MAIN_MAX_LISTENERS];
	ev_io listen_io[MAIN_MAX_LISTENERS];
	unsigned n_listen;
	int udp_fd;                      /* -1: DTLS off */
	struct main_template *template;  /* spawn.c: forks new workers; NULL: they are exec'd */
	struct main_template *retired_templates; /* answering their last requests, exiting */
	uint32_t template_gen;                   /* of the newest template */
	uint64_t template_rotations[MAIN_N_ROTATIONS];
	struct {
		pid_t pid;
		int status;
	} early_exits[32];               /* workers that ended before the template named them */
	unsigned n_early_exits;
	ev_io udp_io;
	uint64_t udp_garbage;            /* datagrams that were no ClientHello */
	uint64_t udp_unmatched;          /* ClientHellos of no live session */
	ev_tstamp udp_last_log;
	ev_signal sig_chld, sig_term, sig_int, sig_hup;
	struct main_worker *workers;     /* all of them; kept by worker_index.c */
	unsigned n_workers;
	unsigned n_holding_room; /* workers in a MWS_HOLDS_ROOM state (worker_index.c) */
	struct main_worker *by_id, *by_pid, *by_dtls_id, *by_sid; /* worker_index.c */
	struct main_session *sessions;   /* sessions.c: what outlives a session's tunnels */
	uint32_t next_id;
	struct lease_pool *leases;       /* ipv4-network; NULL: unset */
	struct lease_pool *leases6;      /* ipv6-network; NULL: unset */
	struct lease_pool **pools;       /* pools.c: other networks of per-user files */
	size_t n_pools;
	struct main_ctl *ctl; /* the control socket (ctl.c); NULL until it listens */
	struct main_audit *audit;        /* audit.c; NULL: audit-log unset */
	struct script_run *scripts;      /* scripts.c: running scripts */
	unsigned n_scripts;
	unsigned n_sessions;             /* tunnels up; kept by main_event() */
	ev_timer drain;                  /* server-drain-ms after SIGTERM */
	struct aux_proc *snmp;           /* sluice-snmp (snmp.c); NULL: snmp-agentx unset */
	struct main_manage *manage;      /* sluice-manage (manage.c); NULL: manage-listen unset */
	struct main_systemd *systemd;    /* systemd.c; NULL until first used */
	struct main_metrics *metrics;    /* metrics.c; NULL: metrics-listen unset */
	struct main_listeners *listeners; /* listeners.c; NULL until they are watched */
	struct ban_table *bans;
	struct main_preauth *preauth;    /* preauth.c: connections not yet authenticated */
	struct main_proxy *proxy;        /* proxy_wait.c: connections awaiting a PROXY header */
	struct main_ban_nft *ban_nft;    /* ban_nft.c: the kernel's copy; NULL: none */
	struct main_filter *filter;      /* filter.c: the kernel's per-session policy */

	/* reload.c */
	char *config_path;   /* NULL: the built-in configuration */
	bool debug;          /* -d: log-level does not apply */
	bool foreground; /* -f: logs go to stderr (and so do the subagent's) */
	uint32_t cert_gen;   /* generation of cert_pem (and of sec's key) */
	uint32_t reload_gen; /* generation sec is loading; 0: none */
	char *pending_cert;  /* the certificate of reload_gen */
	size_t pending_cert_len;
	uint8_t pending_pin[32];
};

/* Which file owns what (each header says more):
 *   server.c         start-up of the event loop, listeners, signals, shutdown
 *   sec_channel.c    main's side of the sec channel: requests, queue, replies
 *   workers.c        a worker process: spawn, its channel, exit, terminate, kill
 *   session_setup.c  a session: tunnel request to tunnel up, and its end
 *   spawn.c          where a worker process comes from (template or exec)
 *   worker_index.c   the registry of workers and the indexes main finds them by
 *   sessions.c       what main keeps of a session between its tunnels
 *   lease.c pools.c tun.c iroute.c   what a session is given
 *   scripts.c events.c audit*.c metrics.c ctl*.c systemd.c   what is reported */

/* server.c */
int main_run(struct main_ctx *m);

/* spawn.c: workers come from the template, or are exec'd when there is none */
int main_template_start(struct main_ctx *m);
void main_template_watch(struct main_ctx *m);
/* Asks the current template to fork w (its answer brings the pid); -ENOENT when there is
 * none, -EAGAIN when its channel is full, -EPIPE when it failed (it is gone then). */
int main_template_spawn(struct main_ctx *m, struct main_worker *w, int client_fd, int main_end,
			int sec_end);
pid_t main_exec_worker(struct main_ctx *m, int client_fd, int main_end, int sec_end);
/* w died on a signal main did not send before it authenticated (how: as logged): when
 * the current template forked it, a new template replaces it. */
void main_template_worker_crashed(struct main_ctx *m, const struct main_worker *w, const char *how);
/* Sends SIGTERM to every template that runs (start-up failed after they started). */
void main_templates_stop(struct main_ctx *m);
/* A child exited: a template, a worker, or a worker not yet announced. */
void main_child_exited(struct main_ctx *m, pid_t pid, int status);

/* pools.c: the global pools (0, or -EINVAL logged). */
int main_pools_start(struct main_ctx *m);
/* The pool of a session's ipv4-network (family AF_INET) or ipv6-network (AF_INET6),
 * created on first use; NULL (err set) when it overlaps another pool. */
struct lease_pool *main_pool_for(struct main_ctx *m, const struct sluice_config *c, int family,
				 char *err, size_t errlen);
/* Releases sid's address in whichever pool holds it. */
void main_pools_release(struct main_ctx *m, const char *sid);

/* A session's addresses as text; "" for a family it has none of. */
struct main_addrs {
	char ip4[INET_ADDRSTRLEN];     /* the client's */
	char local4[INET_ADDRSTRLEN];  /* the server's end */
	char ip6[INET6_ADDRSTRLEN];    /* the client's */
	char local6[INET6_ADDRSTRLEN]; /* the server's address on the device */
	char prefix6[INET6_ADDRSTRLEN + 4]; /* the client's prefix, "net/len" */
	unsigned prefix6_len;
};
void main_session_addrs(const struct main_worker *w, struct main_addrs *t);

/* udp.c */
void main_udp_readable(struct ev_loop *loop, ev_io *io, int revents);

/* worker_index.c: the list of all workers and the hash indexes main finds one by, on
 * every message from sec or the template, every child exit and every ClientHello. A key
 * changes only through these functions, so no index keeps a freed or re-keyed worker.
 * The setters return -ENOMEM when the table could not grow; w is then not indexed. */
int main_workers_add(struct main_ctx *m, struct main_worker *w);
void main_workers_remove(struct main_ctx *m, struct main_worker *w);
/* Moves w to state s, keeping m->n_holding_room. */
void main_workers_set_state(struct main_ctx *m, struct main_worker *w, enum main_worker_state s);
int main_workers_set_pid(struct main_ctx *m, struct main_worker *w, pid_t pid);
/* The DTLS App-ID of its current tunnel, in place of the one before. */
int main_workers_set_dtls_id(struct main_ctx *m, struct main_worker *w,
			     const uint8_t id[MAIN_DTLS_ID_LEN]);
/* w holds its session's (w->sid) tunnel from now on (up), or no longer. */
int main_workers_set_tunnel(struct main_ctx *m, struct main_worker *w, bool up);
/* By id, else by pid (0: not looked for). */
struct main_worker *main_find_worker(struct main_ctx *m, uint32_t id, pid_t pid);
/* The worker with a tunnel whose DTLS id this is. */
struct main_worker *main_find_by_dtls_id(struct main_ctx *m, const uint8_t *id, size_t len);
/* The newest worker holding a tunnel of session sid: its TUN device exists. */
struct main_worker *main_find_tunnel(struct main_ctx *m, const char *sid);

#endif
