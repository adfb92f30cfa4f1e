/* The auth helper launcher and the loop of one helper (src/ipc/sec_auth.proto).
 *
 * sec forks the launcher first thing, while it still has root's capabilities and before
 * it reads any key, so that nothing forked from it ever had a key in its memory. The
 * launcher only forks: sec asks (SA_SPAWN), it makes a socket pair, forks a helper on one
 * end and hands sec the other (SA_SPAWNED); children it does not wait for are reaped by
 * the kernel (SA_NOCLDWAIT). It keeps CAP_SETUID and CAP_SETGID only, for the RADIUS
 * and LDAP helpers, which read their secrets as root (radcli's files; the LDAP service
 * account's password and CAs) and then run as run-as-user under their own seccomp
 * filter; a PAM helper drops every capability (sec_privdrop) and keeps root's uid, which
 * pam_unix needs to read /etc/shadow. With plain auth the helpers only compute password
 * hashes that sec hands them (sec reads the password file): they run as run-as-user
 * under their own filter, and are never root.
 *
 * A helper serves one login at a time. Its own alarm bounds each step of a backend
 * (auth-helper-timeout): a PAM module that hangs ends the helper, and sec sees its
 * channel close. While it waits for the user's answer to a prompt, the wait is bounded by
 * auth-timeout instead. */
#include "config.h"

#include "sec/auth_helper.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/passwd.h"
#include "ipc/ipc.h"
#include "sec/sec.h"

/* The channel's fd in the launcher and in every helper. */
#define AUTH_CHANNEL_FD 3

bool auth_helpers_needed(const struct sluice_config *c)
{
	/* plain auth too: its password hashes are computed in helpers. */
	return ((c->auth_required | c->auth_alternatives) & CONFIG_AUTH_PASSWORD) ||
	       c->acct_backend != CONFIG_ACCT_NONE || c->radius_dae_listen;
}

/* Text from a backend (a RADIUS server's Reply-Message, a PAM module's prompt) as sec
 * takes it: no control characters but newlines, at most AUTH_HELPER_MAX_TEXT - 1 bytes
 * (cut at a character boundary of UTF-8). */
static char *clean_text(char *s)
{
	size_t n;

	if (!s)
		return s;
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n')
			*p = ' ';
	n = strlen(s);
	if (n >= AUTH_HELPER_MAX_TEXT) {
		n = AUTH_HELPER_MAX_TEXT - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		s[n] = '\0';
	}
	return s;
}

static void clean_result(SaResult *r)
{
	clean_text(r->reason);
	for (size_t i = 0; i < r->n_groups; i++)
		clean_text(r->groups[i]);
}

struct helper_conv {
	struct auth_conv conv;
	unsigned step_timeout;   /* seconds a backend step may take */
	unsigned answer_timeout; /* seconds the user has to answer */
};

/* Sends the prompt to sec and waits for the user's answer; the alarm is off meanwhile. */
static char *ask(struct auth_conv *conv, TALLOC_CTX *ctx, const char *text, bool echo)
{
	struct helper_conv *hc = (struct helper_conv *)conv;
	SaPrompt p = SA_PROMPT__INIT;
	SaAnswer *a = NULL;
	char *answer;

	p.text = clean_text(talloc_strdup(ctx, text));
	p.echo = echo;
	if (!p.text)
		_exit(1);
	alarm(0);
	if (ipc_send(AUTH_CHANNEL_FD, SA_TYPE__SA_PROMPT, &p.base, NULL, 0) < 0 ||
	    ipc_recv_expect(AUTH_CHANNEL_FD, SA_TYPE__SA_ANSWER, &sa_answer__descriptor,
			    AUTH_HELPER_MAX_PAYLOAD, ctx, (void **)&a, NULL, 0,
			    (int)(hc->answer_timeout * 1000)) < 0)
		_exit(0); /* sec gave up on this login (or on us): nothing to answer */
	alarm(hc->step_timeout);
	answer = a->answer;
	talloc_steal(ctx, answer);
	talloc_free(a);
	return answer;
}

static void __attribute__((noreturn)) helper_run(const struct sluice_config *c)
{
	struct helper_conv hc = {.conv.ask = ask,
				 .step_timeout = c->auth_helper_timeout,
				 .answer_timeout = c->auth_timeout};

	for (;;) {
		TALLOC_CTX *tmp = talloc_new(NULL);
		SaResult r = SA_RESULT__INIT;
		SaLogin *l = NULL;
		int ret = tmp ? ipc_recv_expect(AUTH_CHANNEL_FD, SA_TYPE__SA_LOGIN,
						&sa_login__descriptor, AUTH_HELPER_MAX_PAYLOAD, tmp,
						(void **)&l, NULL, 0, -1)
			      : -ENOMEM;

		if (ret == -ECONNRESET)
			_exit(0);
		if (ret < 0)
			_exit(1);
		hc.conv.password = l->password;
		hc.conv.password_used = false;
		/* Default action of SIGALRM: the helper ends, and sec fails the login. */
		alarm(c->auth_helper_timeout);
		if (c->password_backend == CONFIG_PW_RADIUS)
			auth_radius_login(c, tmp, l, &hc.conv, &r);
		else if (c->password_backend == CONFIG_PW_LDAP)
			auth_ldap_login(c, tmp, l, &hc.conv, &r);
		else
			auth_pam_login(c, tmp, l, &hc.conv, &r);
		alarm(0);
		clean_result(&r);
		explicit_bzero(l->password, strlen(l->password));
		if (ipc_send(AUTH_CHANNEL_FD, SA_TYPE__SA_RESULT, &r.base, NULL, 0) < 0)
			_exit(1);
		talloc_free(tmp);
	}
}

/* A helper of plain auth: one hash at a time, each bounded by the alarm (a hash with an
 * absurd cost parameter ends the helper, and sec fails that login). It knows nothing of
 * the password file; password and hash are wiped once answered. */
static void __attribute__((noreturn)) hash_run(const struct sluice_config *c)
{
	for (;;) {
		TALLOC_CTX *tmp = talloc_new(NULL);
		SaHashResult r = SA_HASH_RESULT__INIT;
		SaHash *req = NULL;
		int ret = tmp ? ipc_recv_expect(AUTH_CHANNEL_FD, SA_TYPE__SA_HASH,
						&sa_hash__descriptor, AUTH_HELPER_MAX_PAYLOAD, tmp,
						(void **)&req, NULL, 0, -1)
			      : -ENOMEM;

		if (ret == -ECONNRESET)
			_exit(0);
		if (ret < 0)
			_exit(1);
		alarm(c->auth_helper_timeout);
		r.match = passwd_verify_hash(req->hash, req->password) == 0;
		alarm(0);
		explicit_bzero(req->password, strlen(req->password));
		explicit_bzero(req->hash, strlen(req->hash));
		if (ipc_send(AUTH_CHANNEL_FD, SA_TYPE__SA_HASH_RESULT, &r.base, NULL, 0) < 0)
			_exit(1);
		talloc_free(tmp);
	}
}

/* The accounting helper: one record at a time, each step bounded by the alarm. */
static void __attribute__((noreturn)) acct_run(const struct sluice_config *c)
{
	for (;;) {
		TALLOC_CTX *tmp = talloc_new(NULL);
		SaAcctDone d = SA_ACCT_DONE__INIT;
		SaAcct *req = NULL;
		char why[128] = "";
		int ret = tmp ? ipc_recv_expect(AUTH_CHANNEL_FD, SA_TYPE__SA_ACCT, &sa_acct__descriptor,
						AUTH_HELPER_MAX_PAYLOAD, tmp, (void **)&req, NULL, 0, -1)
			      : -ENOMEM;

		if (ret == -ECONNRESET)
			_exit(0);
		if (ret < 0)
			_exit(1);
		alarm(c->auth_helper_timeout);
		d.ok = (c->acct_backend == CONFIG_ACCT_PAM
				? auth_pam_account(c, req->record, why, sizeof(why))
				: auth_radius_account(c, req->record, why, sizeof(why))) == 0;
		alarm(0);
		d.reason = d.ok ? NULL : why;
		if (ipc_send(AUTH_CHANNEL_FD, SA_TYPE__SA_ACCT_DONE, &d.base, NULL, 0) < 0)
			_exit(1);
		talloc_free(tmp);
	}
}

/* run-as-user and run-as-group, with no supplementary group, no capability left (the
 * uid change clears them) and no way back to root. */
static int helper_drop_to_user(const struct sluice_config *c)
{
	if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
	    setresuid(c->uid, c->uid, c->uid) < 0)
		return -errno;
	if (c->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	/* A uid change makes the process dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* run-as-user, then the filter of a helper that talks to the network. */
static int drop_and_filter(const struct sluice_config *c, int (*sandbox)(void))
{
	int ret = helper_drop_to_user(c);

	return ret < 0 ? ret : sandbox();
}

/* The DAE listener's drop: run-as-user under the RADIUS helpers' table (UDP, its
 * channel). */
static int dae_drop(const struct sluice_config *c)
{
	return drop_and_filter(c, auth_radius_sandbox_install);
}

/* RADIUS (logins or accounting): radcli's files (the servers file holds the secret) are
 * read as root; the network is then talked to as run-as-user, under the helper's
 * filter. */
static int radius_helper_setup(const struct sluice_config *c, const char *config)
{
	if (auth_radius_prepare(config) < 0)
		return -EINVAL;
	return drop_and_filter(c, auth_radius_sandbox_install);
}

/* LDAP: the service account's password file and ldap-ca-cert's CAs are read as root; the
 * directory is then talked to as run-as-user, under the LDAP helpers' filter. */
static int ldap_helper_setup(const struct sluice_config *c)
{
	if (auth_ldap_prepare(c) < 0)
		return -EINVAL;
	return drop_and_filter(c, auth_ldap_sandbox_install);
}

/* plain auth's hashes: nothing to read as root; run-as-user (never root: a hash is
 * attacker-chosen work and libcrypt parses the password file's text), then the hash
 * helpers' filter. */
static int hash_helper_setup(const struct sluice_config *c)
{
	if (c->uid == 0 || c->gid == 0)
		return -EPERM;
	return drop_and_filter(c, auth_hash_sandbox_install);
}

/* One helper, on its end of a new socket pair: an accounting helper, or one that serves
 * logins. */
static void __attribute__((noreturn)) helper_start(const struct sluice_config *c, int fd,
						   const SaSpawn *req)
{
	bool accounting = req->has_accounting && req->accounting;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	if (dup2(fd, AUTH_CHANNEL_FD) < 0 || close_range(AUTH_CHANNEL_FD + 1, ~0U, 0) < 0)
		_exit(1);
	if (req->has_dae && req->dae)
		dae_helper_run(c, AUTH_CHANNEL_FD, dae_drop);
	if (accounting && c->acct_backend == CONFIG_ACCT_PAM)
		ret = sec_privdrop();
	else if (accounting)
		ret = radius_helper_setup(c, c->acct_radius_config);
	else if (c->password_backend == CONFIG_PW_RADIUS)
		ret = radius_helper_setup(c, c->radius_config);
	else if (c->password_backend == CONFIG_PW_LDAP)
		ret = ldap_helper_setup(c);
	else if (c->password_backend == CONFIG_PW_PLAIN)
		ret = hash_helper_setup(c);
	else
		ret = sec_privdrop();
	if (ret < 0) {
		log_err("auth helper: cannot set itself up: %s", strerror(-ret));
		_exit(1);
	}
	if (accounting)
		acct_run(c);
	if (c->password_backend == CONFIG_PW_PLAIN)
		hash_run(c);
	helper_run(c);
}

/* The launcher's privileges: CAP_SETUID and CAP_SETGID alone (no other capability, none
 * to get back through an execve), and no core dump. */
static int launcher_privdrop(void)
{
	cap_value_t keep[] = {CAP_SETUID, CAP_SETGID};
	cap_t caps = cap_init();
	int ret = -ENOMEM;

	if (!caps)
		return ret;
	if (cap_set_flag(caps, CAP_PERMITTED, 2, keep, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 2, keep, CAP_SET) < 0)
		goto fail;
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		goto fail;
	if (cap_set_proc(caps) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	ret = -errno;
out:
	cap_free(caps);
	return ret;
}

static void __attribute__((noreturn)) launcher_run(struct sluice_config *c)
{
	struct sigaction sa = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};

	sigaction(SIGCHLD, &sa, NULL);
	for (;;) {
		TALLOC_CTX *tmp = talloc_new(NULL);
		SaSpawned s = SA_SPAWNED__INIT;
		SaSpawn *req = NULL;
		int sv[2], ret;
		pid_t pid;

		ret = tmp ? ipc_recv_expect(AUTH_CHANNEL_FD, SA_TYPE__SA_SPAWN,
					    &sa_spawn__descriptor, 64, tmp, (void **)&req, NULL,
					    0, -1)
			  : -ENOMEM;
		if (ret == -ECONNRESET)
			_exit(0);
		if (ret < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			_exit(1);
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid == 0) {
			close(sv[0]);
			helper_start(c, sv[1], req);
		}
		close(sv[1]);
		s.pid = (uint32_t)pid;
		if (ipc_send(AUTH_CHANNEL_FD, SA_TYPE__SA_SPAWNED, &s.base, &sv[0], 1) < 0)
			_exit(1);
		close(sv[0]);
		talloc_free(tmp);
	}
}

int auth_launcher_start(struct sluice_config *c, int *fd, pid_t *pid)
{
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		log_err("auth helper launcher: socketpair: %s", strerror(errno));
		return ret;
	}
	*pid = fork();
	if (*pid < 0) {
		ret = -errno;
		log_err("auth helper launcher: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (*pid == 0) {
		/* It dies with sec, and its helpers die with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		log_set_prefix("auth helper: ");
		if (dup2(sv[1], AUTH_CHANNEL_FD) < 0 ||
		    close_range(AUTH_CHANNEL_FD + 1, ~0U, 0) < 0)
			_exit(1);
		/* The token's PIN is sec's alone. */
		if (c->key_pin)
			explicit_bzero(c->key_pin, strlen(c->key_pin));
		ret = launcher_privdrop();
		if (ret < 0) {
			log_err("cannot drop the launcher's privileges: %s", strerror(-ret));
			_exit(1);
		}
		launcher_run(c);
	}
	close(sv[1]);
	*fd = sv[0];
	log_info("auth helper launcher started (pid %d)", (int)*pid);
	return 0;
}
