/* Per-user and per-group configuration files, read by sec when a user logs in: the
 * session keeps what they set for its whole life (cookie reconnects included), and
 * main applies it over the global configuration for every tunnel of the session. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

/* A user or group name that names a file inside the directory and nothing else. */
static bool safe_name(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/');
}

/* The text of dir/name, or of fallback when that file does not exist; "" when neither
 * is configured or exists. NULL (logged) on an error: an unreadable or invalid file
 * must not let the user in with less restricted settings than intended. */
static char *one_file(TALLOC_CTX *ctx, const char *dir, const char *name, const char *fallback,
		      const char *what)
{
	char err[600] = "";
	bool missing = false;
	char *text;

	if (dir && name[0]) {
		if (!safe_name(name)) {
			log_err("%s '%s': the name cannot be a file name in %s", what, name, dir);
			return NULL;
		}
		char *path = talloc_asprintf(ctx, "%s/%s", dir, name);

		text = path ? config_user_file(ctx, path, &missing, err, sizeof(err)) : NULL;
		talloc_free(path);
		if (text)
			return text;
		if (!missing) {
			log_err("%s configuration: %s", what, err);
			return NULL;
		}
	}
	if (!fallback)
		return talloc_strdup(ctx, "");
	text = config_user_file(ctx, fallback, &missing, err, sizeof(err));
	if (!text)
		log_err("default %s configuration: %s", what, err);
	return text;
}

/* A value the overrides text sets ("key = value" lines, as config_user_merge writes
 * them), or NULL. */
static const char *setting(const char *text, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *end = strchrnul(p, '\n');

		if (strncmp(p, key, klen) == 0 && strncmp(p + klen, " = ", 3) == 0 &&
		    (size_t)(end - p - klen - 3) < len) {
			memcpy(buf, p + klen + 3, (size_t)(end - p - klen - 3));
			buf[end - p - klen - 3] = '\0';
			return buf;
		}
	}
	return NULL;
}

int sec_user_config(struct sec_ctx *sec, TALLOC_CTX *ctx, const char *user, const char *group,
		    const char *backend, struct sec_user_conf *out)
{
	const struct sluice_config *c = sec->cfg;
	TALLOC_CTX *tmp = talloc_new(ctx);
	char *gtext, *utext, *files = NULL, err[600], buf[16];
	const char *v;

	out->text = NULL;
	gtext = one_file(tmp, c->config_per_group, group, c->default_group_config, "group");
	utext = gtext ? one_file(tmp, c->config_per_user, user, c->default_user_config, "user")
		      : NULL;
	if (utext) {
		files = config_user_merge(tmp, gtext, utext, err, sizeof(err));
		if (!files)
			log_err("configuration of user '%s': %s", user, err);
	}
	/* What the backend (RADIUS) sent goes over the files. */
	if (files) {
		out->text = config_user_merge(ctx, files, backend, err, sizeof(err));
		if (!out->text)
			log_err("settings from the authentication backend for '%s': %s", user, err);
	}
	talloc_free(tmp);
	if (!out->text)
		return -EINVAL;
	v = setting(out->text, "max-same-clients", buf, sizeof(buf));
	out->max_same_clients = v ? (int)strtoul(v, NULL, 10) : -1;
	v = setting(out->text, "deny-roaming", buf, sizeof(buf));
	out->deny_roaming = v ? strcmp(v, "true") == 0 : -1;
	v = setting(out->text, "session-timeout", buf, sizeof(buf));
	out->session_timeout = v ? (long)strtoul(v, NULL, 10) : -1;
	v = setting(out->text, "max-same-clients-policy", buf, sizeof(buf));
	out->same_clients_policy = !v ? -1
				   : strcmp(v, "replace-oldest") == 0 ? CONFIG_SAME_REPLACE_OLDEST
								      : CONFIG_SAME_REFUSE;
	return 0;
}

unsigned sec_max_same_clients(const struct sec_ctx *sec, const struct sec_user_conf *uc)
{
	return uc->max_same_clients >= 0 ? (unsigned)uc->max_same_clients
					 : sec->cfg->max_same_clients;
}

bool sec_deny_roaming(const struct sec_ctx *sec, const struct sec_user_conf *uc)
{
	return uc->deny_roaming >= 0 ? uc->deny_roaming : sec->cfg->deny_roaming;
}

unsigned sec_session_timeout(const struct sec_ctx *sec, const struct sec_user_conf *uc)
{
	return uc->session_timeout >= 0 ? (unsigned)uc->session_timeout : sec->cfg->session_timeout;
}

enum config_same_clients_policy sec_same_clients_policy(const struct sec_ctx *sec,
							const struct sec_user_conf *uc)
{
	return uc->same_clients_policy >= 0 ? (enum config_same_clients_policy)uc->same_clients_policy
					    : sec->cfg->max_same_clients_policy;
}
