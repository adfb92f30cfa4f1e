/* sec's side of the auth helpers (src/ipc/sec_auth.proto, auth_helper.c): a bounded
 * pool of helper processes, started on demand through the launcher, and a bounded queue
 * of logins that wait for one.
 *
 * sec never waits for a helper: a login goes to a free helper (or a new one, up to
 * auth-helpers), else into the queue, and its worker waits in SECW_WAIT while sec goes
 * on serving signatures, cookies and other logins. Each step a helper takes is bounded
 * (auth-helper-timeout, or auth-timeout while the user answers a prompt); a helper that
 * overruns it, dies, or sends what the contract does not allow loses its channel, and
 * its login fails with a clear message. A login waits in the queue at most
 * auth-helper-timeout. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/passwd.h"
#include "sec/auth_helper.h"
#include "ipc/sec_auth.pb-c.h"
#include "ipc/sec_auth.routes.h"

/* What sec sees of a helper (contract states). */
#define SAS_IDLE     (1u << 0)
#define SAS_BUSY     (1u << 1) /* a login or an answer is with the backend */
#define SAS_PROMPTED (1u << 2) /* the helper waits for the user's answer */
#define SAS_HASHING  (1u << 3) /* a password hash (plain auth) is with the helper */
/* Past the helper's own alarm, so that a helper that ends itself is seen as such. */
#define HELPER_GRACE 2.0
/* How long sec waits for the launcher to fork a helper. */
#define LAUNCHER_TIMEOUT_MS 5000

static int on_prompt(void *ctx, void *msg, int *fds);
static int on_result(void *ctx, void *msg, int *fds);
static int on_hash_result(void *ctx, void *msg, int *fds);

static const struct ipc_route sec_from_helper[] = {
    IPC_ROUTE_SA_PROMPT(on_prompt),
    IPC_ROUTE_SA_RESULT(on_result),
    IPC_ROUTE_SA_HASH_RESULT(on_hash_result),
};

static void wipe(char **s)
{
	if (*s)
		explicit_bzero(*s, strlen(*s));
	TALLOC_FREE(*s);
}

static void forget_login(struct sec_worker *w)
{
	wipe(&w->be_password);
	wipe(&w->be_hash);
	TALLOC_FREE(w->be_entry);
	w->be_why = NULL;
	TALLOC_FREE(w->be_user);
	TALLOC_FREE(w->be_group);
	w->helper = NULL;
}

static void helper_free(struct sec_helper *h)
{
	struct sec_ctx *sec = h->sec;

	DL_DELETE(sec->helpers, h);
	sec->n_helpers--;
	ev_io_stop(sec->loop, &h->io);
	ev_timer_stop(sec->loop, &h->timer);
	/* The helper sees its channel close and exits; a backend that does not return
	 * meets the helper's own alarm. */
	close(h->ch.fd);
	if (h->w)
		h->w->helper = NULL;
	talloc_free(h);
}

static void arm(struct sec_helper *h, double seconds)
{
	ev_timer_stop(h->sec->loop, &h->timer);
	ev_timer_set(&h->timer, seconds, 0);
	ev_timer_start(h->sec->loop, &h->timer);
}

static void dispatch_queue(struct sec_ctx *sec);

/* The helper failed w's login (or had none): the login fails with why, and the helper
 * goes. */
static void helper_failed(struct sec_helper *h, const char *why)
{
	struct sec_worker *w = h->w;
	struct sec_ctx *sec = h->sec;

	log_err("auth helper (pid %d): %s", (int)h->pid, why);
	h->w = NULL;
	helper_free(h);
	if (w) {
		sec_auth_backend_done(w, false, "the authentication backend failed", true, NULL, 0, NULL);
		forget_login(w);
	}
	dispatch_queue(sec);
}

static void helper_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sec_helper *h = t->data;

	helper_failed(h, h->state == SAS_PROMPTED ? "no answer from the user in time"
						  : "the backend did not answer in time");
}

/* One message per wake-up. A result frees the helper for the next login in the queue,
 * which it is handed only here, once ipc_recv_dispatch is done with its channel: the
 * hand-over fails when the helper ended right after its result, and frees the helper,
 * channel and all. */
static void helper_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sec_helper *h = io->data;
	struct sec_ctx *sec = h->sec;
	int ret = ipc_recv_dispatch(&h->ch, h->state, h);

	if (ret == IPC_CLOSED)
		helper_failed(h, "it ended");
	else if (ret < 0 && ret != -EAGAIN)
		helper_failed(h, ipc_last_error());
	else if (ret >= 0)
		dispatch_queue(sec);
}

int sec_launcher_spawn(struct sec_ctx *sec, enum sec_helper_kind kind, int *fd, pid_t *pid)
{
	SaSpawn req = SA_SPAWN__INIT;
	SaSpawned *rep = NULL;
	int ret;

	if (sec->launcher_fd < 0)
		return -EPIPE;
	req.has_accounting = req.accounting = kind == SEC_HELPER_ACCT;
	req.has_dae = req.dae = kind == SEC_HELPER_DAE;
	ret = ipc_send(sec->launcher_fd, SA_TYPE__SA_SPAWN, &req.base, NULL, 0);
	if (ret == 0)
		ret = ipc_recv_expect(sec->launcher_fd, SA_TYPE__SA_SPAWNED,
				      &sa_spawned__descriptor, 64, sec, (void **)&rep, fd, 1,
				      LAUNCHER_TIMEOUT_MS);
	if (ret < 0) {
		/* Out of step or gone: no helper until sluiced restarts. */
		log_err("auth helper launcher (pid %d): %s; no more helpers from now on",
			(int)sec->launcher_pid, strerror(-ret));
		close(sec->launcher_fd);
		sec->launcher_fd = -1;
		return ret;
	}
	*pid = (pid_t)rep->pid;
	talloc_free(rep);
	return 0;
}

/* A new helper from the launcher, or NULL (logged). */
static struct sec_helper *helper_spawn(struct sec_ctx *sec)
{
	struct sec_helper *h;
	char name[48];
	pid_t pid;
	int fd = -1;

	h = talloc_zero(sec, struct sec_helper);
	if (!h)
		return NULL;
	if (sec_launcher_spawn(sec, SEC_HELPER_LOGIN, &fd, &pid) < 0) {
		talloc_free(h);
		return NULL;
	}
	h->sec = sec;
	h->pid = pid;
	h->state = SAS_IDLE;
	snprintf(name, sizeof(name), "auth helper %d", (int)h->pid);
	ipc_channel_init(&h->ch, fd, sec_from_helper,
			 sizeof(sec_from_helper) / sizeof(sec_from_helper[0]),
			 AUTH_HELPER_MAX_PAYLOAD, talloc_strdup(h, name));
	ev_io_init(&h->io, helper_readable, fd, EV_READ);
	h->io.data = h;
	ev_io_start(sec->loop, &h->io);
	ev_init(&h->timer, helper_timeout);
	h->timer.data = h;
	DL_APPEND(sec->helpers, h);
	sec->n_helpers++;
	log_info("auth helper started (pid %d, %u of %u)", (int)h->pid, sec->n_helpers,
		 sec->cfg->auth_helpers);
	return h;
}

/* h (idle) takes w's login: a backend's (SA_LOGIN) or a hash to check (SA_HASH). */
static int helper_take(struct sec_helper *h, struct sec_worker *w)
{
	SaLogin l = SA_LOGIN__INIT;
	SaHash hash = SA_HASH__INIT;
	bool hashing = w->be_hash != NULL;
	int ret;

	if (hashing) {
		hash.hash = w->be_hash;
		hash.password = w->be_password;
		ret = ipc_send(h->ch.fd, SA_TYPE__SA_HASH, &hash.base, NULL, 0);
	} else {
		l.username = w->be_user;
		l.password = w->be_password;
		l.client_ip = w->client_ip;
		ret = ipc_send(h->ch.fd, SA_TYPE__SA_LOGIN, &l.base, NULL, 0);
	}
	/* The helper has it now; sec keeps no password and no hash. */
	wipe(&w->be_password);
	wipe(&w->be_hash);
	h->w = w;
	w->helper = h;
	if (ret < 0) {
		helper_failed(h, strerror(-ret));
		return 0;
	}
	h->state = hashing ? SAS_HASHING : SAS_BUSY;
	if (hashing)
		log_info("worker %u: password of %s to auth helper %d", w->id, w->be_user,
			 (int)h->pid);
	arm(h, h->sec->cfg->auth_helper_timeout + HELPER_GRACE);
	return 0;
}

static void queue_remove(struct sec_worker *w)
{
	DL_DELETE2(w->sec->login_queue, w, qprev, qnext);
	w->queued = false;
	w->sec->n_queued--;
}

static void queue_timer_arm(struct sec_ctx *sec)
{
	ev_timer_stop(sec->loop, &sec->queue_timer);
	if (!sec->login_queue)
		return;
	ev_timer_set(&sec->queue_timer,
		     sec->login_queue->queued_at + sec->cfg->auth_helper_timeout -
			 ev_now(sec->loop) + 0.01,
		     0);
	ev_timer_start(sec->loop, &sec->queue_timer);
}

/* Logins that waited too long for a helper fail. */
static void queue_expired(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sec_ctx *sec = t->data;

	while (sec->login_queue &&
	       sec->login_queue->queued_at + sec->cfg->auth_helper_timeout <= ev_now(loop)) {
		struct sec_worker *w = sec->login_queue;

		queue_remove(w);
		log_warn("worker %u: no free auth helper within %u s", w->id,
			 sec->cfg->auth_helper_timeout);
		sec_auth_backend_done(w, false, "no free authentication helper", true, NULL, 0, NULL);
		forget_login(w);
	}
	queue_timer_arm(sec);
}

/* Free helpers, or new ones up to auth-helpers, take the queue's logins in order. */
static void dispatch_queue(struct sec_ctx *sec)
{
	while (sec->login_queue) {
		struct sec_helper *h;
		struct sec_worker *w;

		DL_FOREACH(sec->helpers, h)
			if (h->state == SAS_IDLE)
				break;
		if (!h && sec->n_helpers < sec->cfg->auth_helpers)
			h = helper_spawn(sec);
		if (!h)
			break;
		w = sec->login_queue;
		queue_remove(w);
		helper_take(h, w);
	}
	queue_timer_arm(sec);
	/* Without a launcher nothing in the queue will ever be served. */
	if (sec->launcher_fd < 0 && sec->n_helpers == 0)
		while (sec->login_queue) {
			struct sec_worker *w = sec->login_queue;

			queue_remove(w);
			sec_auth_backend_done(w, false, "no authentication helper", true, NULL, 0, NULL);
			forget_login(w);
		}
}

/* w's login, its be_ fields set, waits for a helper. */
static int enqueue(struct sec_worker *w)
{
	struct sec_ctx *sec = w->sec;
	int ret;

	w->state = SECW_WAIT;
	if (sec->n_queued >= SEC_LOGIN_QUEUE_MAX) {
		log_warn("worker %u: %u logins wait for an auth helper already; refused", w->id,
			 sec->n_queued);
		ret = sec_auth_backend_done(w, false, "too many logins waiting", true, NULL, 0, NULL);
		forget_login(w);
		return ret;
	}
	w->queued = true;
	w->queued_at = ev_now(sec->loop);
	DL_APPEND2(sec->login_queue, w, qprev, qnext);
	sec->n_queued++;
	dispatch_queue(sec);
	return 0;
}

/* What the form carried, for the helper and for the verdict. */
static int keep_form(struct sec_worker *w, const char *user, const char *password,
		     const char *group)
{
	w->be_user = talloc_strdup(w, user);
	w->be_password = talloc_strdup(w, password);
	w->be_group = group ? talloc_strdup(w, group) : NULL;
	if (!w->be_user || !w->be_password || (group && !w->be_group)) {
		forget_login(w);
		return -ENOMEM;
	}
	return 0;
}

int sec_helpers_login(struct sec_worker *w, const char *user, const char *password,
		      const char *group)
{
	int ret = keep_form(w, user, password, group);

	return ret < 0 ? ret : enqueue(w);
}

int sec_helpers_hash(struct sec_worker *w, const char *user, const char *password,
		     const char *group, const char *hash, const char *why,
		     struct passwd_entry *entry)
{
	int ret = keep_form(w, user, password, group);

	if (ret < 0) {
		talloc_free(entry);
		return ret;
	}
	w->be_hash = talloc_strdup(w, hash);
	/* The copy above is the only one sec keeps (hash may be the entry's own). */
	if (entry->hash)
		explicit_bzero(entry->hash, strlen(entry->hash));
	w->be_entry = talloc_steal(w, entry);
	w->be_why = why;
	if (!w->be_hash) {
		forget_login(w);
		return -ENOMEM;
	}
	return enqueue(w);
}

int sec_helpers_answer(struct sec_worker *w, const char *answer)
{
	struct sec_helper *h = w->helper;
	SaAnswer a = SA_ANSWER__INIT;
	int ret;

	if (!h || h->state != SAS_PROMPTED)
		return -EPROTO;
	a.answer = (char *)answer;
	ret = ipc_send(h->ch.fd, SA_TYPE__SA_ANSWER, &a.base, NULL, 0);
	w->state = SECW_WAIT;
	if (ret < 0) {
		helper_failed(h, strerror(-ret));
		return 0;
	}
	h->state = SAS_BUSY;
	arm(h, h->sec->cfg->auth_helper_timeout + HELPER_GRACE);
	return 0;
}

void sec_helpers_cancel(struct sec_worker *w)
{
	struct sec_ctx *sec = w->sec;

	if (w->queued) {
		queue_remove(w);
		queue_timer_arm(sec);
	}
	if (w->helper) {
		struct sec_helper *h = w->helper;

		/* Mid-login: the conversation cannot be taken back; the helper goes. */
		log_info("worker %u went away during its login; auth helper %d ends", w->id,
			 (int)h->pid);
		h->w = NULL;
		helper_free(h);
		dispatch_queue(sec);
	}
	forget_login(w);
}

/* Text a helper passes on: bounded, and printable for the form and the log. */
static bool text_ok(const char *s)
{
	size_t n = strnlen(s, AUTH_HELPER_MAX_TEXT + 1);

	if (n > AUTH_HELPER_MAX_TEXT)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
			return false;
	return true;
}

static int on_prompt(void *ctx, void *msg, int *fds)
{
	struct sec_helper *h = ctx;
	SaPrompt *p = msg;

	if (!h->w || !text_ok(p->text))
		return -EPROTO;
	h->state = SAS_PROMPTED;
	/* The helper waits for the user, who has auth-timeout. */
	arm(h, h->sec->cfg->auth_timeout + HELPER_GRACE);
	return sec_auth_backend_prompt(h->w, p->text, p->echo);
}

static int on_result(void *ctx, void *msg, int *fds)
{
	struct sec_helper *h = ctx;
	struct sec_worker *w = h->w;
	SaResult *r = msg;
	const char *why = r->reason;
	char *conf;

	if (!w)
		return -EPROTO;
	if (r->n_groups > AUTH_HELPER_MAX_GROUPS || r->n_routes > AUTH_HELPER_MAX_ROUTES ||
	    r->n_dns > AUTH_HELPER_MAX_DNS || (why && !text_ok(why)))
		return -EPROTO;
	for (size_t i = 0; i < r->n_groups; i++)
		if (!text_ok(r->groups[i]) || !*r->groups[i] || strchr(r->groups[i], '\n'))
			return -EPROTO;
	ev_timer_stop(h->sec->loop, &h->timer);
	h->state = SAS_IDLE;
	h->w = NULL;
	w->helper = NULL;
	if (!r->ok && !why)
		why = "refused by the backend";
	conf = r->ok ? sec_backend_conf(w, w->be_user, r) : NULL;
	sec_auth_backend_done(w, r->ok, r->ok ? NULL : why,
			      r->has_backend_error && r->backend_error, r->groups, r->n_groups,
			      conf);
	talloc_free(conf);
	forget_login(w);
	/* helper_readable hands h the next login. */
	return 0;
}

static int on_hash_result(void *ctx, void *msg, int *fds)
{
	struct sec_helper *h = ctx;
	struct sec_worker *w = h->w;
	SaHashResult *r = msg;

	if (!w)
		return -EPROTO;
	ev_timer_stop(h->sec->loop, &h->timer);
	h->state = SAS_IDLE;
	h->w = NULL;
	w->helper = NULL;
	sec_auth_hash_done(w, r->match);
	forget_login(w);
	/* helper_readable hands h the next login. */
	return 0;
}

void sec_helpers_init(struct sec_ctx *sec)
{
	sec->launcher_fd = -1;
	ev_init(&sec->queue_timer, queue_expired);
	sec->queue_timer.data = sec;
	sec->dae_fd = -1;
}

int sec_helpers_start(struct sec_ctx *sec)
{
	sec_helpers_init(sec);
	sec_acct_init(sec);
	if (!auth_helpers_needed(sec->cfg))
		return 0;
	return auth_launcher_start(sec->cfg, &sec->launcher_fd, &sec->launcher_pid);
}
