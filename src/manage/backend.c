/* The management API's calls to main: one control request at a time on fd 3, the same
 * requests and the same JSON records as sluicectl's. A reply that breaks the contract,
 * or none within BACKEND_TIMEOUT_MS, leaves the channel in an unknown state: the
 * process exits and main starts a fresh one. */
#include "config.h"

#include "manage/manage.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ctl/exchange.h"
#include "ctl/json.h"

#define BACKEND_TIMEOUT_MS 10000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipc_channel ch;

void backend_init(int fd)
{
	ctl_channel_init(&ch, fd, "sluiced");
}

static void add_status(const CtlStatus *s, void *data)
{
	json_decref(*(json_t **)data);
	*(json_t **)data = ctl_status_json(s);
}

static void add_user(const CtlUser *u, void *data)
{
	json_array_append_new(*(json_t **)data, ctl_user_json(u));
}

static void add_session(const CtlSession *s, void *data)
{
	json_array_append_new(*(json_t **)data, ctl_session_json(s));
}

static void add_ban(const CtlBan *b, void *data)
{
	json_array_append_new(*(json_t **)data, ctl_ban_json(b));
}

static void add_account(const CtlAccount *a, void *data)
{
	json_array_append_new(*(json_t **)data, ctl_account_json(a));
}

/* What sluicectl says when main's reply has no message. */
static const char *changed_word(enum api_op op)
{
	return op == API_UNBAN	    ? "unbanned"
	       : op == API_RELOAD   ? "reload"
	       : op >= API_ACCOUNT_SET ? "done"
				    : "disconnected";
}

static json_t *error_json(const char *text)
{
	return json_pack("{s:s}", "error", text);
}

/* main's refusal as an HTTP status. */
static unsigned refusal_status(int error)
{
	switch (error) {
	case ENOENT:
	case ESRCH:
		return 404;
	case EINVAL:
		return 400;
	case ENOTSUP:
		return 409;
	case EBUSY:
		return 503;
	default:
		return 500;
	}
}

/* The payloads a request may take. */
struct payloads {
	CtlEmpty empty;
	CtlName name;
	CtlId id;
	CtlIp ip;
	CtlAccountChange account;
	char *groups[API_GROUPS_MAX];
};

static void account_change(const struct api_call *call, struct payloads *p, uint16_t *type,
			   ProtobufCMessage **req)
{
	static const CtlAccountAction actions[] = {
	    [API_ACCOUNT_SET] = CTL_ACCOUNT_ACTION__CTL_ACCOUNT_SET,
	    [API_ACCOUNT_LOCK] = CTL_ACCOUNT_ACTION__CTL_ACCOUNT_LOCK,
	    [API_ACCOUNT_UNLOCK] = CTL_ACCOUNT_ACTION__CTL_ACCOUNT_UNLOCK,
	    [API_ACCOUNT_DELETE] = CTL_ACCOUNT_ACTION__CTL_ACCOUNT_DELETE,
	    [API_ACCOUNT_GROUPS] = CTL_ACCOUNT_ACTION__CTL_ACCOUNT_GROUPS,
	};

	*type = CTL_TYPE__CTL_ACCOUNT_CHANGE;
	*req = &p->account.base;
	p->account.action = actions[call->op];
	p->account.name = (char *)call->arg;
	if (call->op == API_ACCOUNT_SET) {
		p->account.password = (char *)call->password;
		p->account.has_set_groups = true;
		p->account.set_groups = call->set_groups;
	}
	for (size_t i = 0; i < call->n_groups; i++)
		p->groups[i] = (char *)call->groups[i];
	p->account.groups = p->groups;
	p->account.n_groups = call->n_groups;
}

/* The request of call and where its replies go. */
static void prepare(const struct api_call *call, struct payloads *p, uint16_t *type,
		    ProtobufCMessage **req, struct ctl_reply *r)
{
	CtlName *name = &p->name;
	CtlId *id = &p->id;
	CtlIp *ip = &p->ip;

	*req = &p->empty.base;
	switch (call->op) {
	case API_STATUS:
		*type = CTL_TYPE__CTL_SHOW_STATUS;
		r->on_status = add_status;
		break;
	case API_USERS:
		*type = CTL_TYPE__CTL_SHOW_USERS;
		r->on_user = add_user;
		break;
	case API_USER:
		*type = CTL_TYPE__CTL_SHOW_USER;
		r->on_user = add_user;
		*req = &name->base;
		break;
	case API_ID:
		*type = CTL_TYPE__CTL_SHOW_ID;
		r->on_user = add_user;
		*req = &id->base;
		break;
	case API_SESSIONS:
		*type = CTL_TYPE__CTL_SHOW_SESSIONS;
		r->on_session = add_session;
		break;
	case API_SESSION:
		*type = CTL_TYPE__CTL_SHOW_SESSION;
		r->on_session = add_session;
		*req = &name->base;
		break;
	case API_BANS:
	case API_BAN_POINTS:
		*type = call->op == API_BANS ? CTL_TYPE__CTL_SHOW_IP_BANS
					     : CTL_TYPE__CTL_SHOW_IP_BAN_POINTS;
		r->on_ban = add_ban;
		break;
	case API_DISCONNECT_USER:
		*type = CTL_TYPE__CTL_DISCONNECT_USER;
		*req = &name->base;
		break;
	case API_DISCONNECT_ID:
		*type = CTL_TYPE__CTL_DISCONNECT_ID;
		*req = &id->base;
		break;
	case API_UNBAN:
		*type = CTL_TYPE__CTL_UNBAN_IP;
		*req = &ip->base;
		break;
	case API_RELOAD:
		*type = CTL_TYPE__CTL_RELOAD;
		break;
	case API_ACCOUNTS:
		*type = CTL_TYPE__CTL_SHOW_ACCOUNTS;
		r->on_account = add_account;
		break;
	case API_ACCOUNT_SET:
	case API_ACCOUNT_LOCK:
	case API_ACCOUNT_UNLOCK:
	case API_ACCOUNT_DELETE:
	case API_ACCOUNT_GROUPS:
		account_change(call, p, type, req);
		break;
	case API_EVENTS:
	case API_WHOAMI:
	case API_HISTORY:
		*type = 0; /* answered by http.c itself */
		break;
	}
}

unsigned backend_call(const struct api_call *call, const char *actor, json_t **out)
{
	struct payloads p = {.empty = CTL_EMPTY__INIT, .name = CTL_NAME__INIT, .id = CTL_ID__INIT,
			     .ip = CTL_IP__INIT, .account = CTL_ACCOUNT_CHANGE__INIT};
	CtlName who = CTL_NAME__INIT;
	ProtobufCMessage *req;
	struct ctl_reply r = {0};
	json_t *result = call->op == API_STATUS ? NULL : json_array();
	enum ctl_exchange_result x = CTLX_OK;
	uint16_t type = 0;

	p.name.name = p.ip.ip = (char *)call->arg;
	p.id.id = call->id;
	who.name = (char *)actor;
	r.data = &result;
	prepare(call, &p, &type, &req, &r);
	if (!type) {
		json_decref(result);
		*out = error_json("not a request for main");
		return 500;
	}
	pthread_mutex_lock(&lock);
	if (api_op_changes(call->op) &&
	    ipc_send(ch.fd, CTL_TYPE__CTL_ACTOR, &who.base, NULL, 0) < 0)
		x = CTLX_SEND;
	if (x == CTLX_OK)
		x = ctl_exchange(&ch, type, req, &r, BACKEND_TIMEOUT_MS, NULL);
	pthread_mutex_unlock(&lock);
	if (x != CTLX_OK) {
		log_err("the exchange with sluiced failed (%s); exiting for a fresh start",
			x == CTLX_TIMEOUT  ? "no answer"
			: x == CTLX_CLOSED ? "connection closed"
					   : ipc_last_error());
		exit(1);
	}
	if (r.error) {
		json_decref(result);
		*out = error_json(r.message[0] ? r.message : strerror(r.error));
		return refusal_status(r.error);
	}
	if (api_op_changes(call->op)) {
		json_decref(result);
		/* as sluicectl --json prints a command's outcome */
		result = json_pack("{s:b, s:I, s:s}", "ok", 1, "count", (json_int_t)r.count,
				   "message", r.message[0] ? r.message : changed_word(call->op));
	}
	*out = result ? result : json_object();
	return 200;
}
