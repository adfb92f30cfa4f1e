#include "config.h"

#include "main/groups.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/passwd.h"
#include "main/main.h"

#define GROUP_NAME_MAX 32

struct collect {
	struct main_auto_groups *g;
	unsigned skipped; /* names the form cannot carry, or past AUTO_GROUPS_MAX */
};

/* What select-group takes as a name, so the form's values are what its parser allows. */
static bool name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > GROUP_NAME_MAX || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-", *s)))
			return false;
	return true;
}

static int add(struct collect *c, const char *name)
{
	struct main_auto_groups *g = c->g;

	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->names[i], name) == 0)
			return 0;
	if (!name_ok(name) || g->n == AUTO_GROUPS_MAX) {
		c->skipped++;
		return 0;
	}
	g->names[g->n] = talloc_strdup(g->names, name);
	if (!g->names[g->n])
		return -ENOMEM;
	g->n++;
	return 0;
}

static int on_line(void *arg, unsigned lineno, const char *line, size_t len, const char *user,
		   size_t user_len)
{
	struct collect *c = arg;
	TALLOC_CTX *tmp;
	struct passwd_entry e;
	int ret = 0;

	if (!user)
		return 0;
	tmp = talloc_new(NULL);
	if (!tmp || passwd_parse_line(tmp, line, len, &e) < 0) {
		talloc_free(tmp);
		return tmp ? 0 : -ENOMEM; /* passwd_scan checked the line: cannot happen */
	}
	explicit_bzero(e.hash, strlen(e.hash));
	for (size_t i = 0; ret == 0 && i < e.n_groups; i++)
		ret = add(c, e.groups[i]);
	talloc_free(tmp);
	return ret;
}

/* The groups the password file names, in the order they first appear. main takes only
 * the names: the text, hashes and all, is wiped at once. */
static int list_plain(struct collect *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = passwd_read_fd(c->g, fd, path, &buf, &len, err, errlen);
	close(fd);
	if (ret == 0)
		ret = passwd_scan(path, buf, len, on_line, c, err, errlen);
	if (buf) {
		explicit_bzero(buf, len);
		talloc_free(buf);
	}
	return ret;
}

/* The system's groups (NSS), as ocserv's pam backend lists them. */
static int list_system(struct collect *c, unsigned gid_min)
{
	struct group *gr;
	int ret = 0;

	setgrent();
	while (ret == 0 && (gr = getgrent()) != NULL)
		if (gr->gr_gid >= gid_min)
			ret = add(c, gr->gr_name);
	endgrent();
	return ret;
}

void main_auto_groups_load(struct main_ctx *m)
{
	const struct sluice_config *cfg = m->cfg;
	bool password = (cfg->auth_required | cfg->auth_alternatives) & CONFIG_AUTH_PASSWORD;
	bool plain = password && cfg->password_backend == CONFIG_PW_PLAIN && cfg->passwd_file;
	bool pam = password && cfg->password_backend == CONFIG_PW_PAM;
	struct collect c = {talloc_zero(m, struct main_auto_groups), 0};
	char err[512] = "out of memory";
	int ret = -ENOMEM;

	if (!cfg->auto_select_group || (!plain && !pam)) {
		TALLOC_FREE(m->auto_groups);
		talloc_free(c.g);
		return;
	}
	if (c.g && (c.g->names = talloc_array(c.g, char *, AUTO_GROUPS_MAX)))
		ret = plain ? list_plain(&c, cfg->passwd_file, err, sizeof(err))
			    : list_system(&c, cfg->pam_gid_min);
	if (ret < 0) {
		log_warn("auto-select-group: cannot list the groups: %s; %s", err,
			 m->auto_groups ? "the login form keeps the list made before"
					: "the login form has no group choice");
		talloc_free(c.g);
		return;
	}
	if (c.skipped)
		log_warn("auto-select-group: %u group%s left out (past %d, or a name that is not "
			 "1 to %d letters, digits, '.', '_', '-')",
			 c.skipped, c.skipped == 1 ? "" : "s", AUTO_GROUPS_MAX, GROUP_NAME_MAX);
	log_info("auto-select-group: the login form offers %zu group%s of %s", c.g->n,
		 c.g->n == 1 ? "" : "s", plain ? cfg->passwd_file : "the system");
	talloc_free(m->auto_groups);
	m->auto_groups = c.g;
}
