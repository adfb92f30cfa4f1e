/* sluiced configuration: ocserv's syntax and key names, checked against one schema
 * table (config_schema.c) that also feeds --help-config, the man page and the sample
 * configuration. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <talloc.h>

enum config_auth_method {
	CONFIG_AUTH_PASSWORD = 1 << 0, /* a password method: plain, pam, radius or ldap */
	CONFIG_AUTH_CERT = 1 << 1,
};

/* What a login does that would exceed max-same-clients (max-same-clients-policy). */
enum config_same_clients_policy {
	CONFIG_SAME_REFUSE = 0,         /* it is refused */
	CONFIG_SAME_REPLACE_OLDEST = 1, /* the user's oldest session ends instead */
};

/* How a long session's TLS keys are renewed (rekey-method). */
enum config_rekey_method {
	CONFIG_REKEY_SSL = 0,        /* TLS 1.3: a key update; TLS 1.2: the client reconnects */
	CONFIG_REKEY_NEW_TUNNEL = 1, /* the client reconnects with its cookie */
};

/* Which backend checks the login form's password (one per configuration, as in ocserv). */
enum config_password_backend {
	CONFIG_PW_PLAIN = 0, /* plain[passwd=FILE], in sec */
	CONFIG_PW_PAM,       /* pam[...], in sec's auth helpers */
	CONFIG_PW_RADIUS,    /* radius[...], in sec's auth helpers */
	CONFIG_PW_LDAP,      /* ldap, set up by the ldap-* keys, in sec's auth helpers */
};

struct sluice_config {
	char *file;                 /* where it was read from; "(built-in)" otherwise */

	/* authentication: every method of auth (plain[passwd=FILE], certificate) must pass,
	 * or one method of enable-auth alone */
	char **auth;                /* canonical texts, in the file's order */
	size_t n_auth;
	char **enable_auth;
	size_t n_enable_auth;
	unsigned auth_required;     /* enum config_auth_method bits of auth */
	unsigned auth_alternatives; /* bits of enable-auth */
	enum config_password_backend password_backend;
	char *pam_service;          /* pam[service=NAME]; default "sluice" */
	unsigned pam_gid_min;       /* pam[gid-min=N]: groups below it are not the user's */
	char *radius_config;        /* radius[config=FILE]: radcli's configuration */
	bool radius_groupconfig;    /* radius[groupconfig=true]: Class (or Filter-Id) is the group */
	char *radius_nas_identifier; /* radius[nas-identifier=NAME]; NULL: radcli's own */
	char *acct;                 /* acct's canonical text; NULL: no accounting */
	enum config_acct_backend {
		CONFIG_ACCT_NONE = 0,
		CONFIG_ACCT_RADIUS, /* radius[config=FILE]: Accounting-Requests */
		CONFIG_ACCT_PAM,    /* pam[service=NAME]: a PAM session per tunnel */
	} acct_backend;
	char *acct_pam_service;     /* acct = pam[service=NAME]; default "sluice" */
	char *acct_radius_config;   /* acct = radius[config=FILE] */
	char *acct_nas_identifier;  /* acct = radius[nas-identifier=NAME] */
	char *radius_dae_listen;    /* "ADDRESS:PORT" of the Disconnect/CoA listener; NULL: off */
	char *radius_dae_secret_file; /* its shared secret (first line) */
	char **radius_dae_clients;  /* addresses it takes requests from */
	size_t n_radius_dae_clients;
	/* auth = ldap: the directory and how users and their groups are found in it */
	char *ldap_uri;             /* ldap:// or ldaps:// URIs, space-separated (failover) */
	char *ldap_base;            /* where users are searched (subtree) */
	char *ldap_bind_dn;         /* the service account; NULL: an anonymous search */
	char *ldap_bind_password_file; /* its password (first line), read as root */
	char *ldap_user_filter;     /* %s: the user name, escaped as RFC 4515 says */
	char *ldap_group_attribute; /* of the user entry, naming groups; NULL: none */
	char *ldap_group_filter;    /* a group search (%d: the user's DN, %s: the name) */
	char *ldap_group_base;      /* where groups are searched; NULL: ldap_base */
	char *ldap_group_name_attribute; /* the name of a group the search finds */
	char *ldap_required_group;  /* NULL: any user the filter finds may log in */
	bool ldap_starttls;         /* ldap:// URIs go over StartTLS */
	char *ldap_ca_cert;         /* CAs the server's certificate must chain to */
	unsigned ldap_timeout;      /* seconds per network operation and search */
	unsigned auth_helpers;      /* auth helper processes at most */
	unsigned auth_helper_timeout; /* seconds one step of a backend may take */
	char *passwd_file;          /* of the plain method, wherever it is named */
	char *otp_file;             /* its otp=: oath-toolkit users file; NULL: no OTP */
	char *cert_user_oid;        /* where a certificate names its user: an OID or SAN(...) */
	char *cert_group_oid;       /* where it names the group; NULL: the password file's */
	char *crl;                  /* revoked client certificates (PEM); NULL: none */
	unsigned auth_tries;        /* wrong passwords before the connection is closed */

	/* listening */
	char *listen_host;          /* NULL: all addresses */
	unsigned tcp_port;
	unsigned udp_port;          /* 0: no DTLS */
	char *udp_listen_host;      /* NULL: the TLS connection's local address */
	bool dtls_psk;
	bool dtls_legacy;
	unsigned switch_to_tcp_timeout;

	/* processes */
	char *run_as_user;
	char *run_as_group;
	uid_t uid;                  /* resolved by config_check_system() */
	gid_t gid;
	char *socket_file;
	char *pid_file;
	char *occtl_socket_file;   /* sluicectl's control socket */
	char *occtl_socket_group;  /* NULL: root only (0600); else 0660 and this group */
	bool isolate_workers;
	char *worker_path;          /* NULL: sluice-worker beside sluiced, then LIBEXECDIR */
	bool worker_template;       /* fork workers from a pre-initialised template */
	unsigned worker_template_max_forks; /* then a new template; 0: no limit */
	char *state_dir;
	unsigned server_drain_ms;   /* on SIGTERM, keep sessions this long; 0: end at once */
	bool listen_proxy_proto;    /* a PROXY protocol header precedes every TCP client */
	char *metrics_listen;       /* "ADDRESS:PORT" of the metrics endpoint; NULL: off */
	char *snmp_agentx;          /* snmpd's AgentX socket for sluice-snmp; NULL: off */
	char *manage_listen;        /* "ADDRESS:PORT" of the management API; NULL: off */
	char *manage_cert;          /* its TLS certificate and key (PEM), never server-key */
	char *manage_key;
	char *manage_ca;            /* CA of admin client certificates; NULL: tokens only */
	char *manage_access;        /* the grants (common/manage_access.h) */

	/* TLS */
	char *server_cert;
	char *server_key;           /* a PEM file, or a pkcs11: URL of a key in a token */
	char *key_pin;              /* the token's PIN */
	char *pin_file;             /* a file whose first line is the token's PIN */
	char *ca_cert;
	char *ocsp_response;        /* DER OCSP response for server-cert, stapled; NULL: none */
	char *tls_priorities;

	/* camouflage: without the secret, clients see an ordinary web server */
	bool camouflage;
	char *camouflage_secret;    /* the URL query that lets clients in */
	char *camouflage_realm;     /* of the decoy's 401; NULL: the decoy answers 404 */

	/* limits and timers (seconds) */
	unsigned max_clients;       /* 0: unlimited */
	unsigned max_same_clients;  /* 0: unlimited */
	unsigned max_preauth_clients; /* connections not yet authenticated; 0: unlimited */
	unsigned max_preauth_per_ip;  /* of them from one address or IPv6 prefix; 0: unlimited */
	unsigned tls_handshake_timeout;
	unsigned rate_limit_ms;       /* between accepts; 0: none */
	enum config_same_clients_policy max_same_clients_policy;
	unsigned keepalive;
	unsigned dpd;
	unsigned mobile_dpd;
	bool try_mtu_discovery;
	unsigned auth_timeout;
	unsigned rekey_time;        /* seconds between key renewals; 0: none */
	enum config_rekey_method rekey_method;
	unsigned idle_timeout;      /* 0: off */
	unsigned mobile_idle_timeout; /* of mobile clients; 0: idle_timeout */
	unsigned session_timeout;   /* seconds from the login; 0: none */
	unsigned cookie_timeout;
	bool deny_roaming;
	unsigned stats_report_time;
	unsigned rx_data_per_sec;   /* bytes/s from the client into the VPN; 0: unlimited */
	unsigned tx_data_per_sec;   /* bytes/s from the VPN to the client; 0: unlimited */
	uint64_t session_quota_bytes; /* bytes both ways from the login on; 0: no quota */

	/* IP bans (main/ban.c) */
	unsigned max_ban_score;     /* 0: no bans */
	unsigned ban_time;
	unsigned ban_reset_time;
	unsigned ban_points_wrong_password;
	unsigned ban_points_connection;
	unsigned ban_points_worker_crash; /* a worker's crash before authentication */
	unsigned ban_ipv6_prefix;         /* an IPv6 client scores for its prefix this long */
	char *ban_nftables;               /* main/ban_nft.c: table "inet NAME"; NULL: none */

	/* network */
	char *device;               /* TUN name prefix, e.g. "vpns" */
	bool predictable_ips;
	bool ping_leases;           /* always false (config_schema.c) */
	struct in_addr ipv4_network;
	struct in_addr ipv4_netmask;
	unsigned ipv4_prefix;       /* length of ipv4_netmask; 0: no IPv4 in the tunnel */
	struct in6_addr ipv6_network;
	unsigned ipv6_prefix;       /* length of ipv6_network; 0: no IPv6 in the tunnel */
	unsigned ipv6_prefix_key;   /* ipv6-prefix, ocserv's other way to write the length */
	unsigned ipv6_subnet_prefix; /* length of the prefix each client gets */
	char **dns;                 /* talloc array of strings */
	size_t n_dns;
	char **nbns;                /* NetBIOS name servers (X-CSTP-NBNS) */
	size_t n_nbns;
	bool tunnel_all_dns;        /* X-CSTP-Tunnel-All-DNS */
	bool expose_iroutes;        /* the other users' iroutes as routes */
	bool persistent_cookies;    /* a logout keeps the cookie */
	bool compression;           /* LZ4 and LZS over CSTP and DTLS, as the client offers */
	unsigned no_compress_limit; /* packets of at most this many bytes go uncompressed */
	char **comp_priority;       /* compression-algo-priority: "method:priority" */
	size_t n_comp_priority;
	char **split_dns; /* domains resolved with dns (X-CSTP-Split-DNS) */
	size_t n_split_dns;
	char **routes;              /* normalised "a.b.c.d/len" or "default" */
	size_t n_routes;
	char **no_routes;
	size_t n_no_routes;
	char *explicit_ipv4;        /* the user's fixed address (per-user files only) */
	char *explicit_ipv6;
	char **cert_pins;           /* "sha256:HEX" of the user's own client certificates */
	size_t n_cert_pins;
	bool no_udp;                /* no DTLS for the session */
	bool client_bypass_protocol; /* X-CSTP-Client-Bypass-Protocol */
	bool cisco_client_compat;   /* config.c: implies dtls-legacy; sec: cookie without cert */
	bool restrict_to_routes;    /* the worker drops packets to outside the routes */
	char *restrict_to_ports;    /* canonical restrict-user-to-ports (common/ports.h); NULL */
	char **iroutes;             /* networks behind a client (per-user files only) */
	size_t n_iroutes;
	char *route_add_cmd;        /* NULL: main adds iroutes itself */
	char *route_del_cmd;
	unsigned mtu;               /* 0: derive from the client's and the link's */
	char *default_domain;
	char *banner;
	char *pre_login_banner;     /* on the login form; NULL: banner is */
	char **http_headers;        /* included-http-headers: "Name: value" lines */
	size_t n_http_headers;
	char *user_profile;         /* AnyConnect XML profile for clients (main/profile.h) */

	/* the login form's group selector */
	char **select_groups;       /* "name" or "name[Label]" */
	size_t n_select_groups;
	char *default_select_group; /* label of the choice "my own group"; NULL: none */
	bool auto_select_group;     /* the choices are the groups auth knows (main/groups.h) */

	/* per-user and per-group files, read by sec at login */
	char *config_per_user;      /* directory: one file per user name */
	char *config_per_group;     /* directory: one file per group name */
	char *default_user_config;  /* for users without a file of their own */
	char *default_group_config; /* for groups without a file of their own */

	int log_level;              /* syslog priority threshold (LOG_ERR..LOG_DEBUG) */

	/* operations */
	char *audit_log;            /* JSON lines file; NULL: journal/syslog only */
	char *connect_script;       /* NULL: none */
	char *disconnect_script;
	char *host_update_script;
	unsigned script_timeout;    /* seconds before a script is killed */

	/* non-fatal findings ("FILE:LINE: text"), for main to log after loading */
	char **warnings;
	size_t n_warnings;
	unsigned *key_lines; /* of a main configuration: per schema key, its line (0: unset) */
};

/* Where a problem of a configuration is told: "FILE:LINE: key 'name': what is wrong", or
 * "FILE: missing required key 'name'", one at a time. */
typedef void (*config_report_fn)(void *data, const char *problem);
/* A problem's line is at most this long; a file's first CONFIG_MAX_PROBLEMS are told. */
#define CONFIG_PROBLEM_MAX  600
#define CONFIG_MAX_PROBLEMS 100

/* Reads FILE. On error returns NULL and writes the first problem into err, followed by
 * " (and N more problems)" when there are more. */
struct sluice_config *config_load(TALLOC_CTX *ctx, const char *path, char *err,
				  size_t errlen);
/* The same, telling every problem of the file to report (sluiced -t). */
struct sluice_config *config_load_report(TALLOC_CTX *ctx, const char *path,
					 config_report_fn report, void *data);

/* Same from a string (tests and fuzzing); name stands in for the file name. */
struct sluice_config *config_load_string(TALLOC_CTX *ctx, const char *text,
					 const char *name, char *err, size_t errlen);

/* The built-in configuration used when no configuration file exists: a self-signed
 * certificate and key in state_dir (created by main on first start), the password
 * file /etc/sluice/passwd and a private address pool (see config_schema.c). */
struct sluice_config *config_builtin(TALLOC_CTX *ctx, const char *state_dir,
				     char *err, size_t errlen);

/* Per-user and per-group files (config-per-user, config-per-group and the default-*
 * files): ocserv's syntax, only keys flagged CONFIG_PER_USER. */

/* Reads one and returns the keys it sets as configuration text in schema order ("" when
 * it sets none). NULL with err on error; *missing tells a file that does not exist. */
char *config_user_file(TALLOC_CTX *ctx, const char *path, bool *missing, char *err,
		       size_t errlen);

/* Tells report every problem of one such file (one that does not exist only when
 * must_exist); returns how many. */
unsigned config_check_user_file(const char *path, bool must_exist, config_report_fn report,
				void *data);
/* Reads every file in config-per-user and config-per-group and the default files;
 * report gets one line per problem ("FILE:LINE: key ...: ..."). Returns how many. */
unsigned config_check_user_files(const struct sluice_config *cfg,
				 void (*report)(void *data, const char *problem), void *data);

/* One text of the keys a group file and a user file set (either may be NULL): a key
 * both set takes the user file's value; the items of a repeatable key add up. */
char *config_user_merge(TALLOC_CTX *ctx, const char *group, const char *user, char *err,
			size_t errlen);

/* A session's effective configuration: base, with the keys that overrides (a text
 * from config_user_merge) sets in place of base's own values. */
struct sluice_config *config_derive(TALLOC_CTX *ctx, const struct sluice_config *base,
				    const char *overrides, char *err, size_t errlen);

/* Checks what only the running system can tell: run-as user and group exist (and
 * fills uid/gid), certificate, key and password files are readable. */
int config_check_system(struct sluice_config *cfg, char *err, size_t errlen);
/* The same, telling every problem to report; returns how many. */
unsigned config_check_system_report(struct sluice_config *cfg, config_report_fn report,
				    void *data);

/* The compression methods sluice has, by the names of X-CSTP-Accept-Encoding. */
#define CONFIG_COMPRESSION_METHODS 2
bool config_compression_known(const char *name, size_t len);
/* The methods in the order the server prefers them (compression-algo-priority); fills
 * out[] and returns how many (0 when compression is off). */
size_t config_compression_order(const struct sluice_config *cfg,
				const char *out[CONFIG_COMPRESSION_METHODS]);

/* Parses "a.b.c.d:PORT" or "[v6]:PORT" (metrics-listen). 0 or -EINVAL. */
int config_host_port(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* Writes the effective configuration, one "key = value" per line, in schema order. */
void config_dump(const struct sluice_config *cfg, FILE *out);

/* Writes every key with its type, default, flags and help (for --help-config). */
void config_print_schema(FILE *out);

/* The schema (config_schema.c), shared by config.c and anything that documents the
 * keys (man page, sample configuration). */
enum config_flag {
	CONFIG_REQUIRED = 1 << 0,
	CONFIG_RELOAD = 1 << 1,      /* a SIGHUP applies a new value */
	CONFIG_PER_USER = 1 << 2,    /* also allowed in per-user and per-group files */
	CONFIG_SLUICE_ONLY = 1 << 3, /* not an ocserv key */
	CONFIG_USER_ONLY = 1 << 4,   /* only in per-user and per-group files */
};

struct config_key;

/* One value handed to a type's parser. */
struct config_arg {
	struct sluice_config *cfg;
	const struct config_key *key;
	const char *value;   /* unquoted, non-empty, no control characters */
	char *why;           /* on -EINVAL: what is wrong and what is expected */
	size_t whylen;
	const char *warning; /* set when a value is accepted with a caveat */
};

struct config_type {
	const char *name; /* for people: "number", "boolean", ... */
	int (*parse)(struct config_arg *arg);         /* 0, -EINVAL (why set), -ENOMEM */
	void (*dump)(const struct sluice_config *cfg, const struct config_key *key, FILE *out);
	bool list;        /* repeatable key; max is the item limit */
};

struct config_key {
	const char *name;
	const struct config_type *type;
	size_t offset;       /* of the field in struct sluice_config */
	size_t count_offset; /* lists: of the size_t item count */
	unsigned min, max;   /* numbers: range; strings: max is the length; lists: items */
	const char *def;     /* default, in configuration syntax; NULL: unset */
	unsigned flags;      /* enum config_flag */
	const char *help;
	/* cross-key validation once the whole file is read (only if the key is set) */
	int (*check)(struct config_arg *arg);
};

extern const struct config_key config_keys[];
extern const size_t config_n_keys;
extern const char config_builtin_passwd[]; /* password file of the built-in config */
extern const char config_builtin_pool[];   /* its IPv4 address pool */

const struct config_key *config_key_find(const char *name);
/* One key as --dump-config writes it ("" when unset). */
char *config_key_text(TALLOC_CTX *ctx, const struct sluice_config *cfg,
		      const struct config_key *key);
/* True when path (server-cert, server-key) is a pkcs11: URL: an object in a token, which
 * only sec opens. */
static inline bool config_in_token(const char *path)
{
	return path && strncmp(path, "pkcs11:", 7) == 0;
}
/* An ocserv key that is not in the schema: an old name of a key (ALIAS, what: the
 * key's name), one that tunes what ocserv has and sluice has not (INERT: accepted with a
 * warning, what: why it has no effect), or one that sluice does not support (REFUSED,
 * what: why, or NULL). */
enum config_ocserv_kind { OCSERV_ALIAS, OCSERV_INERT, OCSERV_REFUSED };
struct config_ocserv_key {
	const char *name;
	enum config_ocserv_kind kind;
	const char *what;
};
/* NULL: no such ocserv key. */
const struct config_ocserv_key *config_ocserv_key(const char *name);
/* The whole table (for the documentation); *n: its length. */
const struct config_ocserv_key *config_ocserv_keys(size_t *n);
/* Writes "name = value", quoted where the parser would otherwise change it. */
void config_print_value(FILE *out, const char *name, const char *value);

#endif
