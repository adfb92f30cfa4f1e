/* sec's auth helpers, from their own side: the launcher that forks them and the loop of
 * one helper (auth_helper.c), and the backends they run (auth_pam.c, auth_radius.c,
 * auth_ldap.c). sec's side of the pool is sec_helpers.c. */
#ifndef SLUICE_AUTH_HELPER_H
#define SLUICE_AUTH_HELPER_H

#include <stdbool.h>
#include <sys/types.h>
#include <talloc.h>

#include "common/config.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_auth.pb-c.h"

/* Largest message on a helper's or the launcher's channel. */
#define AUTH_HELPER_MAX_PAYLOAD 8192
/* Groups one login may bring (ocserv's limit is 512). */
#define AUTH_HELPER_MAX_GROUPS 512
/* Longest prompt text, answer or group name a helper passes on. */
#define AUTH_HELPER_MAX_TEXT 256
/* Routes and DNS servers one RADIUS reply may bring. */
#define AUTH_HELPER_MAX_ROUTES 64
#define AUTH_HELPER_MAX_DNS    4

/* How a backend asks the user something more during a login. */
struct auth_conv {
	/* The answer (on ctx), or NULL when there is none: the user went away or the time
	 * ran out; the backend then fails the login. */
	char *(*ask)(struct auth_conv *conv, TALLOC_CTX *ctx, const char *text, bool echo);
	const char *password; /* what the login form carried */
	bool password_used;   /* the backend's first password prompt took it */
};

/* auth_pam.c: one PAM login of l->username (service, gid-min from c), with the
 * conversation on conv; fills r (ok, reason, groups on ctx). */
void auth_pam_login(const struct sluice_config *c, TALLOC_CTX *ctx, const SaLogin *l,
		    struct auth_conv *conv, SaResult *r);

/* auth_pam.c, acct = pam[...]: a Start record opens a PAM session for the tunnel, its
 * Stop closes it (the handles live in the accounting helper). 0, or a negative errno
 * with why set. */
int auth_pam_account(const struct sluice_config *c, const AcctRecord *r, char *why, size_t len);

/* auth_radius.c: reads radcli's configuration (as root, before the helper drops its
 * privileges); then one RADIUS login at a time, as auth_pam_login. */
int auth_radius_prepare(const char *config);
/* One accounting record to the RADIUS server (radcli's tries included): 0, or a negative
 * errno with why set. */
int auth_radius_account(const struct sluice_config *c, const AcctRecord *r, char *why,
			size_t len);
void auth_radius_login(const struct sluice_config *c, TALLOC_CTX *ctx, const SaLogin *l,
		       struct auth_conv *conv, SaResult *r);

/* dae_helper.c: the RADIUS Disconnect/CoA listener on channel: binds radius-dae-listen
 * and reads its secret as root, then calls drop (privileges and filter) and serves;
 * never returns. */
void dae_helper_run(const struct sluice_config *c, int channel,
		    int (*drop)(const struct sluice_config *c)) __attribute__((noreturn));

/* auth_ldap.c: reads the service account's password and ldap-ca-cert's CAs (as root,
 * before the helper drops its privileges); then one LDAP login at a time, as
 * auth_pam_login. */
int auth_ldap_prepare(const struct sluice_config *c);
void auth_ldap_login(const struct sluice_config *c, TALLOC_CTX *ctx, const SaLogin *l,
		     struct auth_conv *conv, SaResult *r);

/* Whether c names a backend that runs in auth helpers. */
bool auth_helpers_needed(const struct sluice_config *c);

/* Forks the launcher (before sec drops its capabilities and loads any key); its channel
 * is *fd. 0, or a negative errno (logged). */
int auth_launcher_start(struct sluice_config *c, int *fd, pid_t *pid);

#endif
