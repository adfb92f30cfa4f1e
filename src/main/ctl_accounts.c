/* The management API's accounts: the users of auth = plain's password file, listed and
 * changed by running sluice-passwd (tool_run.c), the program that owns the file's
 * format, its lock and its atomic rewrite, and that makes the hashes; main never reads
 * a hash and never hashes. Each change is recorded (MEV_CTL) with its caller when the
 * tool is done, whether or not sluice-manage is still there to hear the answer. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ipc/ctl.pb-c.h"
#include "main/ctl.h"
#include "main/ctl_conn.h"
#include "main/events.h"
#include "main/main.h"
#include "main/tool_run.h"

#define ACCT_WHAT_MAX 2048

/* A change under way: what the audit record will say. */
struct acct_change {
	struct acct_change *next;
	uint32_t req;
	uid_t uid;
	char *actor;
	char what[ACCT_WHAT_MAX];
};

static struct acct_change *changes;

static struct main_ctl_conn *conn_of_request(struct main_ctx *m, uint32_t req)
{
	for (struct main_ctl_conn *c = m->ctl ? m->ctl->conns : NULL; c; c = c->next)
		if (req && c->acct_req == req)
			return c;
	return NULL;
}

static uint32_t new_request(struct main_ctl_conn *c)
{
	c->acct_req = ++c->m->ctl->last_req ? c->m->ctl->last_req : ++c->m->ctl->last_req;
	return c->acct_req;
}

/* The tool's message without its "sluice-passwd: " prefix: its first line. */
static const char *tool_message(char *out)
{
	char *p = strstr(out, "sluice-passwd: ");

	p = p ? p + strlen("sluice-passwd: ") : out;
	p[strcspn(p, "\n")] = '\0';
	return *p ? p : "sluice-passwd failed";
}

static bool plain_auth(struct main_ctl_conn *c)
{
	return c->m->cfg->passwd_file != NULL;
}

/* sluice-passwd -L's "NAME:GROUPS:STATE" lines as CtlAccount messages, allocated on c;
 * lines of another shape are skipped. The count, or -ENOMEM. */
static int parse_list(struct main_ctl_conn *c, char *out)
{
	size_t n = 0, cap = 0;
	char *save = NULL;

	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *g = strchr(line, ':'), *state = g ? strchr(g + 1, ':') : NULL, *gs = NULL;
		CtlAccount *a;

		if (!state)
			continue;
		*g++ = '\0';
		*state++ = '\0';
		if (n == cap) {
			CtlAccount *more = talloc_realloc(c, c->accounts, CtlAccount, cap ? cap * 2 : 64);

			if (!more)
				return -ENOMEM;
			c->accounts = more;
			cap = cap ? cap * 2 : 64;
		}
		a = &c->accounts[n];
		ctl_account__init(a);
		a->name = talloc_strndup(c->accounts, line, CTL_NAME_MAX);
		a->locked = strcmp(state, "locked") == 0;
		for (char *t = strtok_r(g, ",", &gs); t; t = strtok_r(NULL, ",", &gs)) {
			char **more = talloc_realloc(c->accounts, a->groups, char *, a->n_groups + 1);

			if (!more)
				return -ENOMEM;
			a->groups = more;
			a->groups[a->n_groups++] = talloc_strndup(c->accounts, t, CTL_NAME_MAX);
		}
		if (!a->name)
			return -ENOMEM;
		n++;
	}
	c->n_accounts = n;
	return (int)n;
}

int ctl_pump_accounts(struct main_ctl_conn *c)
{
	int ret;

	while (c->sent < c->n_accounts) {
		ret = ipc_send(c->ch.fd, CTL_TYPE__CTL_ACCOUNT, &c->accounts[c->sent].base, NULL, 0);
		if (ret == -EAGAIN) {
			ev_io_start(c->m->loop, &c->wio);
			return 0;
		}
		if (ret < 0)
			return ret;
		c->sent++;
	}
	ev_io_stop(c->m->loop, &c->wio);
	TALLOC_FREE(c->accounts);
	c->n_accounts = 0;
	return ctl_send_done(c, 0, NULL, c->sent);
}

static void listed(struct main_ctx *m, uint32_t req, int status, char *out, size_t len)
{
	struct main_ctl_conn *c = conn_of_request(m, req);
	int ret;

	if (!c)
		return;
	c->acct_req = 0;
	c->sent = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ret = ctl_send_done(c, EIO, tool_message(out), 0);
	else
		ret = parse_list(c, out) < 0 ? -ENOMEM : ctl_pump_accounts(c);
	if (ret < 0)
		ctl_conn_failed(c, ret);
}

int ctl_on_show_accounts(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	char *argv[] = {"sluice-passwd", "-c", c->m->cfg->passwd_file, "-L", NULL};
	int ret;

	if (!plain_auth(c))
		return ctl_send_done(c, ENOTSUP,
				     "accounts live in the password file of auth = plain, which "
				     "this server does not use",
				     0);
	c->state = CONN_BUSY;
	ret = tool_run(c->m, c->m->passwd_tool, argv, NULL, new_request(c), listed);
	if (ret < 0)
		return ctl_send_done(c, -ret, ret == -EBUSY ? "other account changes are running; "
							      "try again"
							    : "cannot run sluice-passwd",
				     0);
	return 0;
}

/* A user or group name that sluice-passwd takes as one argument: no separator of the
 * file's format, no control character, not an option, not a comment. */
static bool name_ok(const char *s, bool group)
{
	size_t n = strlen(s);

	if (n == 0 || n > CTL_NAME_MAX || s[0] == '#' || s[0] == '-' || s[0] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ':' ||
		    (group && s[i] == ','))
			return false;
	return true;
}

static void changed(struct main_ctx *m, uint32_t req, int status, char *out, size_t len)
{
	struct main_ctl_conn *c = conn_of_request(m, req);
	struct acct_change **pp, *ch;
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	int ret = 0;

	for (pp = &changes; *pp && (*pp)->req != req; pp = &(*pp)->next)
		;
	ch = *pp;
	if (ch) {
		struct main_event ev = {.kind = MEV_CTL, .detail = ch->what, .uid = ch->uid,
					.actor = ch->actor, .ok = ok};

		*pp = ch->next;
		main_event(m, &ev);
		talloc_free(ch);
	}
	if (!c)
		return;
	c->acct_req = 0;
	if (ok)
		ret = ctl_send_done(c, 0, "done", 1);
	else
		ret = ctl_send_done(c, strstr(out, "no user '") ? ENOENT : EINVAL, tool_message(out),
				    0);
	if (ret < 0)
		ctl_conn_failed(c, ret);
}

/* The tool's arguments for a change; false when a name or the password is refused. */
static const char *build_args(struct main_ctl_conn *c, const CtlAccountChange *a, char **argv,
			      char *groups, size_t glen)
{
	static const char *const flags[] = {[CTL_ACCOUNT_ACTION__CTL_ACCOUNT_LOCK] = "-l",
					    [CTL_ACCOUNT_ACTION__CTL_ACCOUNT_UNLOCK] = "-u",
					    [CTL_ACCOUNT_ACTION__CTL_ACCOUNT_DELETE] = "-d"};
	size_t used = 0;
	int n = 0;

	if (!name_ok(a->name, false))
		return "invalid user name";
	for (size_t i = 0; i < a->n_groups; i++) {
		if (!name_ok(a->groups[i], true))
			return "invalid group name";
		used += (size_t)snprintf(groups + used, glen - used, "%s%s", i ? "," : "",
					 a->groups[i]);
		if (used >= glen)
			return "too many groups";
	}
	if (!a->n_groups)
		snprintf(groups, glen, "*");
	argv[n++] = "sluice-passwd";
	argv[n++] = "-c";
	argv[n++] = c->m->cfg->passwd_file;
	switch (a->action) {
	case CTL_ACCOUNT_ACTION__CTL_ACCOUNT_SET:
		if (!a->password || !a->password[0] || strlen(a->password) > 1024 ||
		    strpbrk(a->password, "\r\n"))
			return "a password is 1 to 1024 characters on one line";
		if (a->set_groups) {
			argv[n++] = "-g";
			argv[n++] = groups;
		}
		break;
	case CTL_ACCOUNT_ACTION__CTL_ACCOUNT_GROUPS:
		argv[n++] = "-G";
		argv[n++] = groups;
		break;
	default:
		argv[n++] = (char *)flags[a->action];
		break;
	}
	argv[n++] = "--";
	argv[n++] = a->name;
	argv[n] = NULL;
	return NULL;
}

int ctl_on_account_change(void *ctx, void *msg, int *fds)
{
	static const char *const verbs[] = {[CTL_ACCOUNT_ACTION__CTL_ACCOUNT_SET] = "set password of",
					    [CTL_ACCOUNT_ACTION__CTL_ACCOUNT_LOCK] = "lock",
					    [CTL_ACCOUNT_ACTION__CTL_ACCOUNT_UNLOCK] = "unlock",
					    [CTL_ACCOUNT_ACTION__CTL_ACCOUNT_DELETE] = "delete",
					    [CTL_ACCOUNT_ACTION__CTL_ACCOUNT_GROUPS] = "set groups of"};
	struct main_ctl_conn *c = ctx;
	const CtlAccountChange *a = msg;
	char *argv[10], groups[CTL_NAME_MAX * 4];
	struct acct_change *ch;
	const char *why;
	int ret;

	if (!plain_auth(c))
		return ctl_send_done(c, ENOTSUP,
				     "accounts live in the password file of auth = plain, which "
				     "this server does not use",
				     0);
	if (a->action < CTL_ACCOUNT_ACTION__CTL_ACCOUNT_SET ||
	    a->action > CTL_ACCOUNT_ACTION__CTL_ACCOUNT_GROUPS)
		return -EBADMSG;
	why = build_args(c, a, argv, groups, sizeof(groups));
	if (why)
		return ctl_send_done(c, EINVAL, why, 0);
	ch = talloc_zero(c->m->ctl, struct acct_change);
	if (!ch || !(ch->actor = talloc_strdup(ch, c->actor ? c->actor : "unnamed"))) {
		talloc_free(ch);
		return -ENOMEM;
	}
	snprintf(ch->what, sizeof(ch->what), "account: %s %s%s%s", verbs[a->action], a->name,
		 a->action == CTL_ACCOUNT_ACTION__CTL_ACCOUNT_GROUPS ||
			 (a->action == CTL_ACCOUNT_ACTION__CTL_ACCOUNT_SET && a->set_groups)
		     ? " to groups "
		     : "",
		 a->action == CTL_ACCOUNT_ACTION__CTL_ACCOUNT_GROUPS ||
			 (a->action == CTL_ACCOUNT_ACTION__CTL_ACCOUNT_SET && a->set_groups)
		     ? groups
		     : "");
	/* The name is a client's word where it came from a login: printable only. */
	for (char *p = ch->what; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	ch->uid = c->uid;
	ch->req = new_request(c);
	c->state = CONN_BUSY;
	ret = tool_run(c->m, c->m->passwd_tool, argv,
		       a->action == CTL_ACCOUNT_ACTION__CTL_ACCOUNT_SET ? a->password : NULL,
		       ch->req, changed);
	if (ret < 0) {
		talloc_free(ch);
		c->acct_req = 0;
		return ctl_send_done(c, -ret, ret == -EBUSY ? "other account changes are running; "
							      "try again"
							    : "cannot run sluice-passwd",
				     0);
	}
	ch->next = changes;
	changes = ch;
	return 0;
}
