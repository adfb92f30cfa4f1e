/* The management API's routes (api.h). Reading needs the read role, changing the admin
 * role; a state-changing request must be a POST of application/json, which a browser
 * sends cross-site only after a CORS preflight that sluice-manage never grants, so a
 * page elsewhere cannot ride on an administrator's client certificate. */
#include "config.h"

#include "manage/api.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/netaddr.h"

struct route {
	const char *path;
	enum api_op op;
	bool post;
};

static const struct route routes[] = {
    {"/api/status", API_STATUS, false},
    {"/api/users", API_USERS, false},
    {"/api/user", API_USER, false},
    {"/api/id", API_ID, false},
    {"/api/sessions", API_SESSIONS, false},
    {"/api/session", API_SESSION, false},
    {"/api/bans", API_BANS, false},
    {"/api/ban-points", API_BAN_POINTS, false},
    {"/api/events", API_EVENTS, false},
    {"/api/whoami", API_WHOAMI, false},
    {"/api/history", API_HISTORY, false},
    {"/api/disconnect", API_DISCONNECT_USER, true},
    {"/api/unban", API_UNBAN, true},
    {"/api/reload", API_RELOAD, true},
    {"/api/accounts", API_ACCOUNTS, false},
    {"/api/accounts/set", API_ACCOUNT_SET, true},
    {"/api/accounts/lock", API_ACCOUNT_LOCK, true},
    {"/api/accounts/unlock", API_ACCOUNT_UNLOCK, true},
    {"/api/accounts/delete", API_ACCOUNT_DELETE, true},
    {"/api/accounts/groups", API_ACCOUNT_GROUPS, true},
};

int api_op_changes(enum api_op op)
{
	return op == API_DISCONNECT_USER || op == API_DISCONNECT_ID || op == API_UNBAN ||
	       op == API_RELOAD || op >= API_ACCOUNT_SET;
}

/* A user name as main accepts one: 1 to 255 bytes, no control characters. */
static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len > API_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool id_ok(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	if (!s || *s < '1' || *s > '9' || strlen(s) > 10)
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

static bool sid_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 12)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	/* "application/json" with nothing after it but parameters (; charset=utf-8) */
	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static unsigned fail(const char **why, const char *text, unsigned status)
{
	*why = text;
	return status;
}

/* The body of a POST: one JSON object whose keys are all in allowed (NULL-ended). */
static unsigned body_object(const struct api_request *req, const char *const *allowed,
			    json_t **out, const char **why)
{
	json_error_t err;
	json_t *v;
	const char *key;
	json_t *item;

	if (req->body_len == 0) {
		*out = json_object();
		return 200;
	}
	v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!v)
		return fail(why, "the body is not valid JSON", 400);
	if (!json_is_object(v)) {
		json_decref(v);
		return fail(why, "the body must be a JSON object", 400);
	}
	json_object_foreach(v, key, item)
	{
		bool known = false;

		for (size_t i = 0; allowed[i]; i++)
			known |= strcmp(key, allowed[i]) == 0;
		if (!known) {
			json_decref(v);
			return fail(why, "the body has a key this request does not take", 400);
		}
	}
	*out = v;
	return 200;
}

static unsigned parse_disconnect(const struct api_request *req, struct api_call *call,
				 const char **why)
{
	static const char *const keys[] = {"user", "id", NULL};
	json_t *body, *user, *id;
	unsigned st = body_object(req, keys, &body, why);

	if (st != 200)
		return st;
	user = json_object_get(body, "user");
	id = json_object_get(body, "id");
	st = 200;
	if (!user == !id) {
		st = fail(why, "give either \"user\" (a name) or \"id\" (a session's ID)", 400);
	} else if (user) {
		if (!json_is_string(user) ||
		    !name_ok(json_string_value(user), json_string_length(user)) ||
		    strlen(json_string_value(user)) != json_string_length(user))
			st = fail(why, "\"user\" must be a user name", 400);
		else
			snprintf(call->arg, sizeof(call->arg), "%s", json_string_value(user));
		call->op = API_DISCONNECT_USER;
	} else {
		json_int_t v = json_is_integer(id) ? json_integer_value(id) : 0;

		if (v < 1 || v > (json_int_t)UINT32_MAX)
			st = fail(why, "\"id\" must be a session's ID (a positive number)", 400);
		call->id = (uint32_t)v;
		call->op = API_DISCONNECT_ID;
	}
	json_decref(body);
	return st;
}

static unsigned parse_unban(const struct api_request *req, struct api_call *call,
			    const char **why)
{
	static const char *const keys[] = {"ip", NULL};
	json_t *body, *ip;
	struct netaddr a;
	unsigned len, st = body_object(req, keys, &body, why);

	if (st != 200)
		return st;
	ip = json_object_get(body, "ip");
	if (!json_is_string(ip) || json_string_length(ip) >= sizeof(call->arg) ||
	    strlen(json_string_value(ip)) != json_string_length(ip) ||
	    netaddr_prefix_parse(json_string_value(ip), &a, &len) < 0)
		st = fail(why, "\"ip\" must be an IP address or prefix", 400);
	else
		snprintf(call->arg, sizeof(call->arg), "%s", json_string_value(ip));
	json_decref(body);
	return st;
}

/* A name for the password file: what a login may use, and nothing its format or the
 * tool's command line would read otherwise (':' ',' a leading '#', '-' or blank). */
static bool account_name_ok(const char *s, size_t len, bool group)
{
	if (!name_ok(s, len) || strlen(s) != len || s[0] == '#' || s[0] == '-' || s[0] == ' ')
		return false;
	return !memchr(s, ':', len) && !(group && memchr(s, ',', len));
}

/* A string member of body into out (size bytes), checked by ok; false if it is not. */
static bool take_string(json_t *body, const char *key, char *out, size_t size,
			bool (*ok)(const char *, size_t, bool), bool group)
{
	json_t *v = json_object_get(body, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t len = s ? json_string_length(v) : 0;

	if (!s || len >= size || !ok(s, len, group))
		return false;
	memcpy(out, s, len + 1);
	return true;
}

/* A password: 1 to 1024 bytes on one line, no NUL. */
static bool password_ok(const char *s, size_t len, bool unused)
{
	if (len == 0 || len > API_PASSWORD_MAX || strlen(s) != len)
		return false;
	return !memchr(s, '\n', len) && !memchr(s, '\r', len);
}

static unsigned parse_account(const struct api_request *req, struct api_call *call,
			      const char **why)
{
	static const char *const set_keys[] = {"user", "password", "groups", NULL};
	static const char *const group_keys[] = {"user", "groups", NULL};
	static const char *const user_keys[] = {"user", NULL};
	const char *const *keys = call->op == API_ACCOUNT_SET      ? set_keys
				  : call->op == API_ACCOUNT_GROUPS ? group_keys
								   : user_keys;
	json_t *body = NULL, *groups, *g;
	size_t i;
	unsigned st = body_object(req, keys, &body, why);

	if (st != 200)
		return st;
	st = 200;
	groups = json_object_get(body, "groups");
	if (!take_string(body, "user", call->arg, sizeof(call->arg), account_name_ok, false))
		st = fail(why, "\"user\" must be a user name (no ':', not starting with '#' or '-')",
			  400);
	else if (call->op == API_ACCOUNT_SET &&
		 !take_string(body, "password", call->password, sizeof(call->password),
			      password_ok, false))
		st = fail(why, "\"password\" must be 1 to 1024 characters on one line", 400);
	else if (call->op == API_ACCOUNT_GROUPS && !groups)
		st = fail(why, "\"groups\" is missing (an array of names; [] for none)", 400);
	else if (groups && (!json_is_array(groups) || json_array_size(groups) > API_GROUPS_MAX))
		st = fail(why, "\"groups\" must be an array of at most 64 group names", 400);
	if (st == 200 && groups) {
		call->set_groups = true;
		json_array_foreach(groups, i, g)
		{
			const char *s = json_is_string(g) ? json_string_value(g) : NULL;
			size_t len = s ? json_string_length(g) : 0;

			if (!s || len > API_NAME_MAX || !account_name_ok(s, len, true)) {
				st = fail(why, "a group name must not hold ':' or ',' (nor start with "
					       "'#' or '-')",
					  400);
				break;
			}
			memcpy(call->groups[call->n_groups++], s, len + 1);
		}
	}
	json_decref(body);
	return st;
}

static unsigned parse_reload(const struct api_request *req, const char **why)
{
	static const char *const keys[] = {NULL};
	json_t *body = NULL;
	unsigned st = body_object(req, keys, &body, why);

	json_decref(body);
	return st;
}

/* The query argument a read needs. */
static unsigned parse_query(const struct api_request *req, struct api_call *call,
			    const char **why)
{
	switch (call->op) {
	case API_USER:
	case API_HISTORY:
		if (!req->q_name || !name_ok(req->q_name, strlen(req->q_name)))
			return fail(why, "?name= must be a user name", 400);
		snprintf(call->arg, sizeof(call->arg), "%s", req->q_name);
		break;
	case API_ID:
		if (!id_ok(req->q_id, &call->id))
			return fail(why, "?id= must be a session's ID (a positive number)", 400);
		break;
	case API_SESSION:
		if (!sid_ok(req->q_sid))
			return fail(why, "?sid= must be 1 to 12 hex digits of a session id", 400);
		snprintf(call->arg, sizeof(call->arg), "%s", req->q_sid);
		break;
	default:
		break;
	}
	return 200;
}

unsigned api_parse(const struct api_request *req, struct api_call *call, const char **why)
{
	const struct route *r = NULL;

	memset(call, 0, sizeof(*call));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (req->path && strcmp(req->path, routes[i].path) == 0)
			r = &routes[i];
	if (!r)
		return fail(why, "no such API path", 404);
	if (!req->method ||
	    strcmp(req->method, r->post ? "POST" : "GET") != 0)
		return fail(why, r->post ? "this path takes POST" : "this path takes GET", 405);
	call->op = r->op;
	if (req->role != MANAGE_ROLE_ADMIN && (r->post || req->role != MANAGE_ROLE_READ))
		return fail(why, "this needs the admin role", 403);
	if (!r->post)
		return parse_query(req, call, why);
	if (!is_json_type(req->content_type))
		return fail(why, "send the body as Content-Type: application/json", 415);
	switch (r->op) {
	case API_DISCONNECT_USER:
		return parse_disconnect(req, call, why);
	case API_UNBAN:
		return parse_unban(req, call, why);
	case API_RELOAD:
		return parse_reload(req, why);
	default:
		return parse_account(req, call, why);
	}
}
