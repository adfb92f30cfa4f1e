/* sluice-snmp: an AgentX subagent for SLUICE-MIB (doc/SLUICE-MIB.txt). It knows only
 * what main tells it over a read-only control connection (fd 3), kept in a cache that
 * is refreshed at most once per SNMP_CACHE_SECS, so the SNMP managers' polling rate
 * never becomes main's load. */
#ifndef SLUICE_SNMP_H
#define SLUICE_SNMP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define SNMP_CACHE_SECS 2.0   /* a cache this young answers without asking main */
#define SNMP_REPLY_MS   300   /* main answers at once; this long means it is stuck (and
                               * snmpd gives a subagent 1 s for the whole request) */
#define SNMP_MAX_ROWS   65536 /* sessions kept; more are left out (and logged) */
#define SNMP_TEXT_MAX   255   /* a string object's length (main already cuts to this) */

struct snmp_row {
	uint32_t id; /* the worker's id, as `sluicectl show id` (the table's index) */
	char *user, *group, *device;
	uint8_t remote[16]; /* the client's public address */
	uint8_t remote_len; /* 4 (IPv4), 16 (IPv6) or 0 (unknown) */
	uint8_t ipv4[4];    /* the VPN address; 0.0.0.0: none */
	uint64_t rx, tx;    /* bytes from and to the client, as last reported */
	int64_t since;      /* Unix time the tunnel came up */
};

struct snmp_cache {
	bool reachable;       /* the last refresh got main's full answer */
	int64_t up_since;     /* Unix time sluiced started */
	uint32_t active, banned;
	uint64_t total, auth_failures;
	uint64_t rx, tx;      /* ended sessions' bytes plus the live ones', never decreasing */
	struct snmp_row *rows; /* sorted by id */
	uint32_t n_rows;
};

/* cache.c. fd: the connection to main. */
void snmp_cache_init(int fd);
/* Asks main for a fresh view unless the cache is younger than SNMP_CACHE_SECS, and
 * returns it. The rows stay valid until the next call. Never NULL. */
const struct snmp_cache *snmp_cache_get(void);
/* True once main closed the connection: the subagent then has nothing to serve. */
bool snmp_cache_main_gone(void);
/* Reads what main sent outside a request (only a close is expected). */
void snmp_cache_readable(void);

/* mib.c: registers SLUICE-MIB's scalars and session table with the agent library. 0 or
 * -1 (logged). */
int snmp_mib_register(void);

/* sandbox.c: the seccomp filter of the subagent's loop (no-new-privs must be set).
 * 0 or -errno. */
int snmp_sandbox_install(void);

#endif
