/* auth = "pam[gid-min=N,service=NAME]": a PAM login, in an auth helper.
 *
 * The conversation is mapped to the login's forms: the first password prompt takes the
 * password of the login form; every other prompt (a one-time code, a new password when
 * the old one expired) is a second form with the prompt as its label, and the user's
 * answer goes back to PAM. Informational and error messages are shown above the next
 * prompt. The user's groups come from NSS (the primary group and the supplementary ones
 * of getgrouplist), those below gid-min left out, as ocserv does.
 *
 * With acct = pam[...], the accounting helper opens a PAM session (pam_open_session)
 * when a tunnel comes up and closes it when the tunnel ends; its handles stay in that
 * helper in between, one per tunnel, keyed by the session id. */
#include "config.h"

#include "sec/auth_helper.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "common/log.h"

struct pam_state {
	TALLOC_CTX *ctx;
	struct auth_conv *conv;
	char *info; /* PAM_TEXT_INFO and PAM_ERROR_MSG text for the next prompt */
};

/* The text shown with a prompt: what PAM said before it, then the prompt. */
static const char *prompt_text(struct pam_state *st, const char *prompt)
{
	if (!st->info)
		return prompt;
	return talloc_asprintf(st->ctx, "%s\n%s", st->info, prompt);
}

static char *answer_for(struct pam_state *st, const struct pam_message *m)
{
	const char *text = m->msg ? m->msg : "";
	char *a;

	/* The form's password answers the first password prompt. */
	if (m->msg_style == PAM_PROMPT_ECHO_OFF && !st->conv->password_used) {
		st->conv->password_used = true;
		return strdup(st->conv->password);
	}
	a = st->conv->ask(st->conv, st->ctx, prompt_text(st, text),
			  m->msg_style == PAM_PROMPT_ECHO_ON);
	TALLOC_FREE(st->info);
	if (!a)
		return NULL;
	/* PAM frees the answers with free(). */
	return strdup(a);
}

static void free_replies(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

static int conversation(int n, const struct pam_message **msgs, struct pam_response **out,
			void *data)
{
	struct pam_state *st = data;
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const struct pam_message *m = msgs[i];

		switch (m->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			r[i].resp = answer_for(st, m);
			if (!r[i].resp) {
				free_replies(r, n);
				return PAM_CONV_ERR;
			}
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			if (m->msg && *m->msg)
				st->info = st->info ? talloc_asprintf_append(st->info, "\n%s", m->msg)
						    : talloc_strdup(st->ctx, m->msg);
			break;
		default:
			free_replies(r, n);
			return PAM_CONV_ERR;
		}
	}
	*out = r;
	return PAM_SUCCESS;
}

static void add_group(TALLOC_CTX *ctx, SaResult *r, const char *name)
{
	char **grown;

	if (r->n_groups >= AUTH_HELPER_MAX_GROUPS || strlen(name) >= AUTH_HELPER_MAX_TEXT)
		return;
	for (size_t i = 0; i < r->n_groups; i++)
		if (strcmp(r->groups[i], name) == 0)
			return;
	grown = talloc_realloc(ctx, r->groups, char *, r->n_groups + 1);
	if (!grown)
		return;
	r->groups = grown;
	grown[r->n_groups] = talloc_strdup(grown, name);
	if (grown[r->n_groups])
		r->n_groups++;
}

/* The user's groups from NSS, gid-min and up. */
static void nss_groups(const struct sluice_config *c, TALLOC_CTX *ctx, const char *user,
		       SaResult *r)
{
	struct passwd pw, *pwp = NULL;
	char buf[16384];
	gid_t *gids;
	int n = 64;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp)
		return;
	gids = talloc_array(ctx, gid_t, n);
	if (gids && getgrouplist(user, pw.pw_gid, gids, &n) < 0 && n > 0 &&
	    n <= AUTH_HELPER_MAX_GROUPS * 4) {
		gids = talloc_realloc(ctx, gids, gid_t, n);
		if (gids && getgrouplist(user, pw.pw_gid, gids, &n) < 0)
			n = 0;
	}
	for (int i = 0; gids && i < n; i++) {
		struct group gr, *grp = NULL;
		char gbuf[16384];

		if (gids[i] < c->pam_gid_min)
			continue;
		if (getgrgid_r(gids[i], &gr, gbuf, sizeof(gbuf), &grp) == 0 && grp)
			add_group(ctx, r, grp->gr_name);
	}
	talloc_free(gids);
}

void auth_pam_login(const struct sluice_config *c, TALLOC_CTX *ctx, const SaLogin *l,
		    struct auth_conv *conv, SaResult *r)
{
	struct pam_state st = {.ctx = ctx, .conv = conv};
	struct pam_conv pc = {conversation, &st};
	pam_handle_t *ph = NULL;
	int ret;

	ret = pam_start(c->pam_service, l->username, &pc, &ph);
	if (ret != PAM_SUCCESS) {
		r->ok = false;
		r->has_backend_error = r->backend_error = true;
		r->reason = talloc_asprintf(ctx, "PAM service %s: %s", c->pam_service,
					    pam_strerror(ph, ret));
		return;
	}
	pam_set_item(ph, PAM_RHOST, l->client_ip);
	ret = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (ret == PAM_SUCCESS) {
		ret = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
		/* An expired password is changed in the conversation, as a console login
		 * does. */
		if (ret == PAM_NEW_AUTHTOK_REQD)
			ret = pam_chauthtok(ph, PAM_CHANGE_EXPIRED_AUTHTOK);
	}
	r->ok = ret == PAM_SUCCESS;
	if (r->ok)
		nss_groups(c, ctx, l->username, r);
	else
		r->reason = talloc_asprintf(ctx, "PAM: %s", pam_strerror(ph, ret));
	pam_end(ph, ret);
}

/* --- acct = pam: one PAM session per tunnel ---------------------------------------- */

/* PAM sessions open at once in one accounting helper (a tunnel each). */
#define PAM_ACCT_MAX 100000

struct pam_open {
	UT_hash_handle hh;
	char sid[64];
	pam_handle_t *ph;
};

static struct pam_open *open_sessions;
static unsigned n_open;

/* A session needs no conversation: a module that asks gets no answer. */
static int no_conversation(int n, const struct pam_message **msgs, struct pam_response **out,
			   void *data)
{
	return PAM_CONV_ERR;
}

static int pam_acct_open(const struct sluice_config *c, const AcctRecord *r, char *why,
			 size_t len)
{
	static struct pam_conv pc = {no_conversation, NULL};
	struct pam_open *o;
	int ret;

	HASH_FIND_STR(open_sessions, r->sid, o);
	if (o || strlen(r->sid) >= sizeof(o->sid) || n_open >= PAM_ACCT_MAX) {
		snprintf(why, len, "session %s: %s", r->sid, o ? "already open" : "no room");
		return -EEXIST;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	snprintf(o->sid, sizeof(o->sid), "%s", r->sid);
	ret = pam_start(c->acct_pam_service, r->username, &pc, &o->ph);
	if (ret == PAM_SUCCESS) {
		pam_set_item(o->ph, PAM_RHOST, r->client_ip);
		pam_set_item(o->ph, PAM_TTY, "sluice");
		ret = pam_open_session(o->ph, 0);
	}
	if (ret != PAM_SUCCESS) {
		snprintf(why, len, "pam_open_session for %s: %s", r->username,
			 pam_strerror(o->ph, ret));
		if (o->ph)
			pam_end(o->ph, ret);
		free(o);
		return -EIO;
	}
	HASH_ADD_STR(open_sessions, sid, o);
	n_open++;
	return 0;
}

static int pam_acct_close(const AcctRecord *r, char *why, size_t len)
{
	struct pam_open *o;
	int ret;

	HASH_FIND_STR(open_sessions, r->sid, o);
	if (!o) {
		/* Its open failed (logged then): nothing to close. */
		return 0;
	}
	HASH_DEL(open_sessions, o);
	n_open--;
	ret = pam_close_session(o->ph, 0);
	pam_end(o->ph, ret);
	free(o);
	if (ret != PAM_SUCCESS) {
		snprintf(why, len, "pam_close_session for %s: %s", r->username,
			 pam_strerror(NULL, ret));
		return -EIO;
	}
	return 0;
}

int auth_pam_account(const struct sluice_config *c, const AcctRecord *r, char *why, size_t len)
{
	/* Acct-Status-Type: 1 Start, 2 Stop; nothing to do for the others. */
	if (r->status == 1)
		return pam_acct_open(c, r, why, len);
	if (r->status == 2)
		return pam_acct_close(r, why, len);
	return 0;
}
