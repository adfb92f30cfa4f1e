/* The management API's request layer: what an authenticated HTTP request asks for,
 * decided from its method, path, query arguments and JSON body alone (no I/O), so that
 * it is fuzzed as a whole (tests/fuzz/fuzz_manage_api.c). Everything here comes from a
 * caller whose role is known but whose bytes are not trusted. */
#ifndef SLUICE_MANAGE_API_H
#define SLUICE_MANAGE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/manage_access.h"

#define API_BODY_MAX 4096 /* a POST body; more is 413 before it is read */
#define API_NAME_MAX 255  /* a user name, as main accepts it */

enum api_op {
	API_STATUS,
	API_USERS,
	API_USER,       /* ?name= */
	API_ID,         /* ?id= */
	API_SESSIONS,   /* sec's sessions (cookies) */
	API_SESSION,    /* ?sid= */
	API_BANS,
	API_BAN_POINTS,
	API_EVENTS,     /* a server-sent-event stream */
	API_WHOAMI,     /* the caller's grant and role */
	API_HISTORY,    /* ?name=: the user's records in the audit log */
	API_DISCONNECT_USER,
	API_DISCONNECT_ID,
	API_UNBAN,
	API_RELOAD,
	API_ACCOUNTS,        /* the password file's users */
	API_ACCOUNT_SET,     /* add a user or set its password (and groups) */
	API_ACCOUNT_LOCK,
	API_ACCOUNT_UNLOCK,
	API_ACCOUNT_DELETE,
	API_ACCOUNT_GROUPS,
};

#define API_GROUPS_MAX   64
#define API_PASSWORD_MAX 1024

struct api_request {
	const char *method;
	const char *path;
	/* query arguments, NULL when absent */
	const char *q_name, *q_id, *q_sid;
	const char *content_type; /* NULL when absent */
	const char *body;         /* POST only; body_len bytes, not NUL-terminated */
	size_t body_len;
	enum manage_role role;
};

struct api_call {
	enum api_op op;
	char arg[API_NAME_MAX + 1]; /* user name, session id prefix or address */
	uint32_t id;
	/* account changes */
	char password[API_PASSWORD_MAX + 1]; /* API_ACCOUNT_SET; wiped by the caller */
	char groups[API_GROUPS_MAX][API_NAME_MAX + 1];
	size_t n_groups;
	bool set_groups; /* API_ACCOUNT_SET: "groups" was given */
};

/* Fills call and returns 200, or returns the HTTP status to answer (400, 403, 404, 405,
 * 415) with *why set to a static text for the caller. */
unsigned api_parse(const struct api_request *req, struct api_call *call, const char **why);
/* True for the operations that change something (admin only, audited). */
int api_op_changes(enum api_op op);

#endif
