#include "config.h"
#include "common/config.h"
#include "common/manage_access.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest accepted line, without its line ending; fits a 1024-byte banner in quotes. */
#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_FILE (1024 * 1024)

/* What a text may set: a main configuration (no key that exists only per user), a
 * per-user or per-group file (only keys flagged CONFIG_PER_USER), or a session's
 * derived configuration (any key). */
enum load_mode { LOAD_GLOBAL, LOAD_USER, LOAD_DERIVED };

struct load_ctx {
	enum load_mode mode;
	struct sluice_config *cfg;
	const char *name;
	const char *pos, *end;
	unsigned lineno;
	unsigned *lines; /* per schema key: line where it was set, 0 if not */
	bool indented;   /* the current line starts with white space */
	bool seen_key;   /* a key line came before: inih continues it on indented lines */
	bool stop;       /* a [section]: the rest of the file is not read */
	bool *bad;       /* per schema key: its value was refused (its checks are skipped) */
	char *err;       /* the first problem */
	size_t errlen;
	config_report_fn report; /* every problem, when set */
	void *report_data;
	unsigned problems;
	int ret; /* of the first problem */
};

/* A problem: reading goes on, so that one run names them all. */
__attribute__((format(printf, 3, 4))) static int fail(struct load_ctx *lc, int ret, const char *fmt,
						      ...)
{
	char line[CONFIG_PROBLEM_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!lc->ret) {
		snprintf(lc->err, lc->errlen, "%s", line);
		lc->ret = ret;
	}
	if (lc->report && lc->problems < CONFIG_MAX_PROBLEMS)
		lc->report(lc->report_data, line);
	else if (lc->report && lc->problems == CONFIG_MAX_PROBLEMS)
		lc->report(lc->report_data, "(more problems not listed)");
	lc->problems++;
	return ret;
}

static bool has_control_char(const char *s)
{
	for (; *s; s++) {
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return true;
	}
	return false;
}

static int add_warning_at(struct load_ctx *lc, unsigned line, const char *text)
{
	struct sluice_config *cfg = lc->cfg;
	char **grown = talloc_realloc(cfg, cfg->warnings, char *, cfg->n_warnings + 1);

	if (!grown)
		return -ENOMEM;
	cfg->warnings = grown;
	grown[cfg->n_warnings] = talloc_asprintf(grown, "%s:%u: %s", lc->name, line, text);
	if (!grown[cfg->n_warnings])
		return -ENOMEM;
	cfg->n_warnings++;
	return 0;
}

static int add_warning(struct load_ctx *lc, const char *text)
{
	return add_warning_at(lc, lc->lineno, text);
}

/* An ini_reader over the in-memory text. Doing the line splitting here lets us refuse
 * what inih would silently accept: lines longer than its buffer (it would split them
 * into two lines) and [sections] (ocserv's vhosts). */
static char *read_line(char *str, int num, void *stream)
{
	struct load_ctx *lc = stream;
	size_t n = 0, len;
	const char *p;

	if (lc->stop || lc->pos >= lc->end || num < 2)
		return NULL;
	lc->lineno++;
	while (n < (size_t)num - 1 && lc->pos < lc->end) {
		str[n] = *lc->pos++;
		if (str[n++] == '\n')
			break;
	}
	str[n] = '\0';
	len = n;
	if (len && str[len - 1] == '\n')
		len--;
	if (len && str[len - 1] == '\r')
		len--;
	if (len > CONFIG_MAX_LINE) {
		fail(lc, -EINVAL, "%s:%u: line too long (more than %d characters)", lc->name,
		     lc->lineno, CONFIG_MAX_LINE);
		/* The rest of it is no line of its own. */
		while (lc->pos < lc->end && *lc->pos++ != '\n')
			;
		str[0] = '\0';
		return str;
	}
	p = str;
	if (lc->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	lc->indented = isspace((unsigned char)*p);
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '[') {
		/* The section as written, up to its ']' (or the line's end). */
		int end = (int)strcspn(p, "]\r\n");

		end = p[end] == ']' ? end + 1 : end;
		end = end > 80 ? 80 : end;
		if (strncmp(p + 1, "vhost:", 6) == 0)
			fail(lc, -EINVAL, "%s:%u: section %.*s: virtual hosts are not supported",
			     lc->name, lc->lineno, end, p);
		else
			fail(lc, -EINVAL, "%s:%u: section %.*s: sections are not supported",
			     lc->name, lc->lineno, end, p);
		/* What follows belongs to the section: no more problems of the file. */
		lc->stop = true;
		return NULL;
	}
	/* inih would stop at such a line; it is named here, and the reading goes on. An
	 * indented line continues the key before it, which inih checks. */
	if (!lc->indented && *p && *p != '#' && *p != ';' && !strpbrk(p, "=:")) {
		fail(lc, -EINVAL, "%s:%u: syntax error (expected key = value)", lc->name,
		     lc->lineno);
		str[0] = '\0';
	}
	return str;
}

static int set_value(struct load_ctx *lc, const struct config_key *key, const char *value)
{
	char why[256] = "";
	struct config_arg arg = {lc->cfg, key, value, why, sizeof(why), NULL};
	int ret = key->type->parse(&arg);

	if (ret == -EINVAL)
		return fail(lc, ret, "%s:%u: key '%s': %s", lc->name, lc->lineno, key->name, why);
	if (ret < 0)
		return fail(lc, ret, "%s:%u: out of memory", lc->name, lc->lineno);
	if (arg.warning && add_warning(lc, arg.warning) < 0)
		return fail(lc, -ENOMEM, "%s:%u: out of memory", lc->name, lc->lineno);
	return 0;
}

/* A name the schema does not have: an ocserv alias stands for its key; an ocserv key
 * without effect here is accepted with a warning that says why; anything else is a
 * problem. NULL: nothing more to do with the line. */
static const struct config_key *other_key(struct load_ctx *lc, const char *name)
{
	const struct config_ocserv_key *o;
	char *text;

	for (const char *p = name; *p; p++) {
		if (!isgraph((unsigned char)*p)) {
			fail(lc, -EINVAL, "%s:%u: invalid key name", lc->name, lc->lineno);
			return NULL;
		}
	}
	o = config_ocserv_key(name);
	if (!o) {
		fail(lc, -EINVAL, "%s:%u: key '%.64s': unknown key", lc->name, lc->lineno, name);
		return NULL;
	}
	if (o->kind == OCSERV_ALIAS)
		return config_key_find(o->what);
	if (o->kind == OCSERV_INERT && lc->mode == LOAD_GLOBAL) {
		lc->seen_key = true;
		text =
		    talloc_asprintf(lc->cfg, "key '%s' has no effect in sluice: %s", name, o->what);
		if (!text || add_warning(lc, text) < 0)
			fail(lc, -ENOMEM, "%s:%u: out of memory", lc->name, lc->lineno);
		talloc_free(text);
		return NULL;
	}
	if (o->kind == OCSERV_INERT)
		fail(lc, -EINVAL, "%s:%u: key '%s' is not allowed in a per-user or per-group file",
		     lc->name, lc->lineno, name);
	else
		fail(lc, -EINVAL,
		     "%s:%u: key '%s' is an ocserv key that sluice does not support%s%s", lc->name,
		     lc->lineno, name, o->what ? ": " : "", o->what ? o->what : "");
	return NULL;
}

/* One "name = value" line. */
static int take_value(struct load_ctx *lc, const char *name, const char *value)
{
	const struct config_key *key;
	size_t len = strlen(value), i;
	char *unquoted = NULL;
	int ret;

	key = config_key_find(name);
	if (!key && !(key = other_key(lc, name)))
		return lc->ret;
	if (lc->mode == LOAD_GLOBAL && (key->flags & CONFIG_USER_ONLY))
		return fail(lc, -EINVAL,
			    "%s:%u: key '%s' is allowed only in per-user and per-group files",
			    lc->name, lc->lineno, key->name);
	if (lc->mode == LOAD_USER && !(key->flags & CONFIG_PER_USER))
		return fail(lc, -EINVAL,
			    "%s:%u: key '%s' is not allowed in a per-user or per-group file",
			    lc->name, lc->lineno, key->name);
	i = (size_t)(key - config_keys);
	if (lc->indented && lc->seen_key && !key->type->list)
		return fail(lc, -EINVAL,
			    "%s:%u: key '%s': takes one value, but this indented line continues it "
			    "(as in ocserv)",
			    lc->name, lc->lineno, key->name);
	lc->seen_key = true;
	if (lc->lines[i] && !key->type->list)
		return fail(lc, -EINVAL, "%s:%u: key '%s': duplicate (already set on line %u)",
			    lc->name, lc->lineno, key->name, lc->lines[i]);
	if (value[0] == '"') {
		if (len < 2 || value[len - 1] != '"')
			return fail(lc, -EINVAL, "%s:%u: key '%s': unbalanced double quote",
				    lc->name, lc->lineno, key->name);
		unquoted = talloc_strndup(lc->cfg, value + 1, len - 2);
		if (!unquoted)
			return fail(lc, -ENOMEM, "%s:%u: out of memory", lc->name, lc->lineno);
		value = unquoted;
	}
	if (!*value)
		ret = fail(lc, -EINVAL, "%s:%u: key '%s': empty value", lc->name, lc->lineno,
			   key->name);
	else if (has_control_char(value))
		ret = fail(lc, -EINVAL, "%s:%u: key '%s': control character in value", lc->name,
			   lc->lineno, key->name);
	else
		ret = set_value(lc, key, value);
	talloc_free(unquoted);
	lc->lines[i] = lc->lineno;
	lc->bad[i] = lc->bad[i] || ret < 0;
	return ret;
}

/* inih handler: one "name = value" line. A problem is noted (fail) and the reading
 * goes on, so that one run names them all. */
static int on_value(void *user, const char *section, const char *name, const char *value)
{
	take_value(user, name, value);
	return 1;
}

static int apply_defaults(struct load_ctx *lc)
{
	size_t i;
	int ret;

	for (i = 0; i < config_n_keys; i++) {
		if (!config_keys[i].def)
			continue;
		ret = set_value(lc, &config_keys[i], config_keys[i].def);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static size_t key_index(const char *name)
{
	return (size_t)(config_key_find(name) - config_keys);
}

/* A value of key (an address or "addr/len") of a family the tunnel has no pool of is
 * never used: a warning, so that it is not left out silently. (ocserv's own sample has
 * an IPv6 route without ipv6-network, and ocserv ignores it without a word.) */
static int check_family(struct load_ctx *lc, const char *name, const char *value)
{
	bool v6 = strchr(value, ':') != NULL;
	char *text;
	int ret;

	if (strcmp(value, "default") == 0 || (v6 ? lc->cfg->ipv6_prefix : lc->cfg->ipv4_prefix))
		return 0;
	text = talloc_asprintf(lc->cfg, "key '%s': '%s' is %s, but there is no %s: it is not used",
			       name, value, v6 ? "IPv6" : "IPv4",
			       v6 ? "ipv6-network" : "ipv4-network");
	ret = text ? add_warning_at(lc, lc->lines[key_index(name)], text) : -ENOMEM;
	talloc_free(text);
	return ret;
}

/* For the main file only: a derived configuration repeats its warnings at every login. */
static int check_families(struct load_ctx *lc)
{
	const struct sluice_config *c = lc->cfg;
	const struct {
		const char *name;
		char *const *items;
		size_t n;
	} lists[] = {
	    {"route", c->routes, c->n_routes},
	    {"no-route", c->no_routes, c->n_no_routes},
	    {"dns", c->dns, c->n_dns},
	    {"nbns", c->nbns, c->n_nbns},
	    {"iroute", c->iroutes, c->n_iroutes},
	};

	for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
		for (size_t i = 0; i < lists[k].n; i++)
			if (check_family(lc, lists[k].name, lists[k].items[i]) < 0)
				return fail(lc, -ENOMEM, "%s: out of memory", lc->name);
	return 0;
}

/* cisco-client-compat = true brings what old Cisco clients need, as in ocserv: legacy
 * DTLS, and TLS 1.3 off unless the file chooses tls-priorities itself. */
static void cisco_compat(struct load_ctx *lc)
{
	struct sluice_config *c = lc->cfg;
	unsigned line = lc->lines[key_index("cisco-client-compat")];
	char *prio;

	if (!c->cisco_client_compat)
		return;
	if (!c->dtls_legacy && add_warning_at(lc, line,
					      "cisco-client-compat = true implies dtls-legacy = "
					      "true; legacy DTLS is on") < 0)
		fail(lc, -ENOMEM, "%s: out of memory", lc->name);
	c->dtls_legacy = true;
	if (lc->lines[key_index("tls-priorities")])
		return;
	prio = talloc_asprintf(c, "%s:-VERS-TLS1.3", c->tls_priorities);
	if (!prio) {
		fail(lc, -ENOMEM, "%s: out of memory", lc->name);
		return;
	}
	talloc_free(c->tls_priorities);
	c->tls_priorities = prio;
}

static void check_complete(struct load_ctx *lc)
{
	const struct config_key *key;
	char why[256] = "";
	size_t i;
	int ret;

	for (i = 0; i < config_n_keys && lc->mode != LOAD_USER; i++) {
		key = &config_keys[i];
		if ((key->flags & CONFIG_REQUIRED) && !lc->lines[i])
			fail(lc, -EINVAL, "%s: missing required key '%s'", lc->name, key->name);
	}
	/* The pool is one value written as one or two keys: a file that changes it
	 * names the network (its netmask alone would change nothing). */
	if (lc->mode == LOAD_USER && lc->lines[key_index("ipv4-netmask")] &&
	    !lc->lines[key_index("ipv4-network")])
		fail(lc, -EINVAL, "%s:%u: key 'ipv4-netmask': needs ipv4-network in the same file",
		     lc->name, lc->lines[key_index("ipv4-netmask")]);
	if (lc->mode == LOAD_USER && lc->lines[key_index("ipv6-prefix")] &&
	    !lc->lines[key_index("ipv6-network")])
		fail(lc, -EINVAL, "%s:%u: key 'ipv6-prefix': needs ipv6-network in the same file",
		     lc->name, lc->lines[key_index("ipv6-prefix")]);
	if (lc->mode != LOAD_USER && !lc->lines[key_index("ipv4-network")] &&
	    !lc->lines[key_index("ipv6-network")])
		fail(lc, -EINVAL, "%s: no address pool: set ipv4-network, ipv6-network or both",
		     lc->name);
	/* A key's check weighs it against others: with a value refused (and left at its
	 * default) it would name a problem that is only that one again. */
	for (i = 0; i < config_n_keys; i++)
		if (lc->bad[i])
			return;
	for (i = 0; i < config_n_keys; i++) {
		struct config_arg arg = {lc->cfg, &config_keys[i], NULL, why, sizeof(why), NULL};

		key = &config_keys[i];
		if (!key->check || !lc->lines[i])
			continue;
		ret = key->check(&arg);
		if (ret == -EINVAL)
			fail(lc, ret, "%s:%u: key '%s': %s", lc->name, lc->lines[i], key->name,
			     why);
		else if (ret < 0)
			fail(lc, ret, "%s: out of memory", lc->name);
		/* A derived configuration would repeat the main file's warnings. */
		else if (arg.warning && lc->mode == LOAD_GLOBAL &&
			 add_warning_at(lc, lc->lines[i], arg.warning) < 0)
			fail(lc, -ENOMEM, "%s: out of memory", lc->name);
	}
	if (lc->mode == LOAD_GLOBAL) {
		check_families(lc);
		cisco_compat(lc);
	}
}

/* inih's switches are process-wide; they are set for the call and put back after, so
 * loading must not run in two threads at once (sluiced loads from its main loop). */
static int parse_text(struct load_ctx *lc)
{
	static char comment_prefixes[] = "#;";
	bool multiline = ini_allow_multiline, inline_comments = ini_allow_inline_comments;
	bool stop = ini_stop_on_first_error, no_value = ini_allow_no_value;
	bool use_stack = ini_use_stack, bom = ini_allow_bom;
	char *prefixes = ini_start_comment_prefixes;
	int max_line = ini_max_line, ret;

	/* As ocserv 1.1.6 reads its files (checked with ocserv -t): '#' and ';' start a
	 * comment only at the start of a line, so values such as banners may contain
	 * them; an indented line continues the previous key (one more value of a list
	 * key, or a second value of a scalar, which is an error). */
	ini_allow_multiline = true;
	ini_allow_inline_comments = false;
	ini_start_comment_prefixes = comment_prefixes;
	/* A problem is noted and the reading goes on (on_value). */
	ini_stop_on_first_error = false;
	ini_allow_no_value = false;
	ini_allow_bom = true;
	/* Debian's build keeps the line on the stack, sized by ini_max_line (default
	 * 200); room for the line, "\r\n" and the terminating NUL. */
	ini_use_stack = true;
	ini_max_line = CONFIG_MAX_LINE + 3;

	ret = ini_parse_stream(read_line, lc, on_value, lc);

	ini_allow_multiline = multiline;
	ini_allow_inline_comments = inline_comments;
	ini_start_comment_prefixes = prefixes;
	ini_stop_on_first_error = stop;
	ini_allow_no_value = no_value;
	ini_allow_bom = bom;
	ini_use_stack = use_stack;
	ini_max_line = max_line;

	/* inih's own: an indented line with no key before it (read_line names the
	 * others). It tells only the first. */
	if (ret > 0)
		fail(lc, -EINVAL, "%s:%d: syntax error (expected key = value)", lc->name, ret);
	else if (ret < 0)
		fail(lc, -ENOMEM, "%s: out of memory", lc->name);
	return lc->ret;
}

/* Reads text in the given mode. With lines, the per-key line numbers (0: not set)
 * stay allocated under the configuration and are returned there. */
static struct sluice_config *load_text(TALLOC_CTX *ctx, const char *text, size_t len,
				       const char *name, enum load_mode mode, unsigned **lines,
				       char *err, size_t errlen, config_report_fn report,
				       void *report_data)
{
	struct load_ctx lc = {.mode = mode,
			      .name = name,
			      .pos = text,
			      .end = text + len,
			      .err = err,
			      .errlen = errlen,
			      .report = report,
			      .report_data = report_data};
	int ret = -ENOMEM;

	if (errlen)
		err[0] = '\0';
	lc.cfg = talloc_zero(ctx, struct sluice_config);
	lc.lines = talloc_zero_array(lc.cfg, unsigned, config_n_keys);
	lc.bad = talloc_zero_array(lc.cfg, bool, config_n_keys);
	if (!lc.cfg || !lc.lines || !lc.bad || !(lc.cfg->file = talloc_strdup(lc.cfg, name))) {
		fail(&lc, ret, "%s: out of memory", name);
		goto fail;
	}
	/* A derived configuration is made of complete dumps: defaults are in them. */
	ret = mode == LOAD_GLOBAL ? apply_defaults(&lc) : 0;
	if (ret < 0)
		goto fail;
	parse_text(&lc);
	check_complete(&lc);
	if (lc.ret < 0)
		goto fail;
	talloc_free(lc.bad);
	if (lines)
		*lines = lc.lines;
	else
		talloc_free(lc.lines);
	return lc.cfg;
fail:
	/* Without a list of them, the first says how many more there are. */
	if (!report && lc.problems > 1 && errlen)
		snprintf(err + strlen(err), errlen - strlen(err), " (and %u more problem%s)",
			 lc.problems - 1, lc.problems > 2 ? "s" : "");
	talloc_free(lc.cfg);
	return NULL;
}

struct sluice_config *config_load_string(TALLOC_CTX *ctx, const char *text, const char *name,
					 char *err, size_t errlen)
{
	return load_text(ctx, text, strlen(text), name, LOAD_GLOBAL, NULL, err, errlen, NULL, NULL);
}

/* The file's bytes, NUL-terminated, or NULL with err set. *missing tells ENOENT apart. */
static char *read_file(TALLOC_CTX *ctx, const char *path, size_t *len, bool *missing, char *err,
		       size_t errlen)
{
	char *buf = NULL;
	const char *nul;
	size_t n;
	FILE *f;

	*missing = false;
	f = fopen(path, "re");
	if (!f) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = talloc_size(ctx, CONFIG_MAX_FILE + 2);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	n = fread(buf, 1, CONFIG_MAX_FILE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	if (n > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_FILE);
		goto fail;
	}
	buf[n] = '\0';
	nul = memchr(buf, '\0', n);
	if (nul) {
		unsigned line = 1;
		const char *p;

		for (p = buf; p < nul; p++)
			line += *p == '\n';
		snprintf(err, errlen, "%s:%u: NUL byte in line", path, line);
		goto fail;
	}
	fclose(f);
	*len = n;
	return buf;
fail:
	talloc_free(buf);
	fclose(f);
	return NULL;
}

static struct sluice_config *load_file(TALLOC_CTX *ctx, const char *path, char *err, size_t errlen,
				       config_report_fn report, void *data)
{
	struct sluice_config *cfg;
	unsigned *lines;
	bool missing;
	size_t n;
	char *buf = read_file(ctx, path, &n, &missing, err, errlen);

	if (!buf) {
		if (report)
			report(data, err);
		return NULL;
	}
	/* Where each key was set, for the problems only the system shows (a file that
	 * cannot be read). */
	cfg = load_text(ctx, buf, n, path, LOAD_GLOBAL, &lines, err, errlen, report, data);
	if (cfg)
		cfg->key_lines = lines;
	talloc_free(buf);
	return cfg;
}

struct sluice_config *config_load(TALLOC_CTX *ctx, const char *path, char *err, size_t errlen)
{
	return load_file(ctx, path, err, errlen, NULL, NULL);
}

struct sluice_config *config_load_report(TALLOC_CTX *ctx, const char *path, config_report_fn report,
					 void *data)
{
	char err[CONFIG_PROBLEM_MAX];

	return load_file(ctx, path, err, sizeof(err), report, data);
}

char *config_key_text(TALLOC_CTX *ctx, const struct sluice_config *cfg,
		      const struct config_key *key)
{
	char *buf = NULL, *copy;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	key->type->dump(cfg, key, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	copy = talloc_strndup(ctx, buf, len);
	free(buf);
	return copy;
}

/* One per-user or per-group file as read, and which keys it set. */
struct layer {
	struct sluice_config *cfg;
	unsigned *lines;
};

/* The keys of layers over base (NULL: only the layers' keys), as configuration text
 * in schema order: a scalar comes from the last layer that sets it, a list is every
 * layer's items together. ipv4-netmask goes with ipv4-network, the pair it belongs to. */
static void append_key(char **text, const struct sluice_config *cfg, const struct config_key *key)
{
	char *one = *text ? config_key_text(*text, cfg, key) : NULL;

	*text = one ? talloc_strdup_append(*text, one) : NULL;
}

static char *compose(TALLOC_CTX *ctx, const struct sluice_config *base, const struct layer *layers,
		     size_t n)
{
	char *text = talloc_strdup(ctx, "");
	size_t net = key_index("ipv4-network"), mask = key_index("ipv4-netmask");
	size_t net6 = key_index("ipv6-network"), net6len = key_index("ipv6-prefix");

	for (size_t i = 0; text && i < config_n_keys; i++) {
		const struct config_key *key = &config_keys[i];
		const struct sluice_config *last = NULL;
		size_t src = i == mask ? net : i == net6len ? net6 : i;

		for (size_t j = 0; j < n; j++) {
			if (!layers[j].lines[src])
				continue;
			if (key->type->list)
				append_key(&text, layers[j].cfg, key);
			last = layers[j].cfg;
		}
		if (!last && base)
			append_key(&text, base, key);
		else if (last && !key->type->list)
			append_key(&text, last, key);
	}
	return text;
}

static int user_layer(TALLOC_CTX *ctx, const char *text, size_t len, const char *name,
		      struct layer *l, char *err, size_t errlen)
{
	l->cfg = load_text(ctx, text, len, name, LOAD_USER, &l->lines, err, errlen, NULL, NULL);
	return l->cfg ? 0 : -EINVAL;
}

char *config_user_file(TALLOC_CTX *ctx, const char *path, bool *missing, char *err, size_t errlen)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char *buf, *text = NULL;
	struct layer l;
	size_t n;

	buf = read_file(tmp, path, &n, missing, err, errlen);
	if (buf && user_layer(tmp, buf, n, path, &l, err, errlen) == 0) {
		text = compose(ctx, NULL, &l, 1);
		if (!text)
			snprintf(err, errlen, "%s: out of memory", path);
	}
	talloc_free(tmp);
	return text;
}

struct counted {
	config_report_fn report;
	void *data;
	unsigned n;
};

static void count_problem(void *data, const char *problem)
{
	struct counted *c = data;

	c->n++;
	c->report(c->data, problem);
}

unsigned config_check_user_file(const char *path, bool must_exist, config_report_fn report,
				void *data)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct counted c = {report, data, 0};
	char err[CONFIG_PROBLEM_MAX];
	bool missing;
	size_t n;
	char *buf = read_file(tmp, path, &n, &missing, err, sizeof(err));

	if (!buf && (must_exist || !missing))
		count_problem(&c, err);
	else if (buf)
		load_text(tmp, buf, n, path, LOAD_USER, NULL, err, sizeof(err), count_problem, &c);
	talloc_free(tmp);
	return c.n;
}

char *config_user_merge(TALLOC_CTX *ctx, const char *group, const char *user, char *err,
			size_t errlen)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct layer l[2];
	size_t n = 0;
	char *text = NULL;

	if (group && user_layer(tmp, group, strlen(group), "group", &l[n++], err, errlen) < 0)
		goto out;
	if (user && user_layer(tmp, user, strlen(user), "user", &l[n++], err, errlen) < 0)
		goto out;
	text = compose(ctx, NULL, l, n);
	if (!text)
		snprintf(err, errlen, "out of memory");
out:
	talloc_free(tmp);
	return text;
}

struct sluice_config *config_derive(TALLOC_CTX *ctx, const struct sluice_config *base,
				    const char *overrides, char *err, size_t errlen)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct sluice_config *cfg = NULL;
	struct layer l;
	char *text;

	if (user_layer(tmp, overrides, strlen(overrides), "per-user configuration", &l, err,
		       errlen) < 0)
		goto out;
	text = compose(tmp, base, &l, 1);
	if (!text)
		snprintf(err, errlen, "out of memory");
	else
		cfg = load_text(ctx, text, strlen(text), base->file, LOAD_DERIVED, NULL, err,
				errlen, NULL, NULL);
out:
	talloc_free(tmp);
	return cfg;
}

struct sluice_config *config_builtin(TALLOC_CTX *ctx, const char *state_dir, char *err,
				     size_t errlen)
{
	struct sluice_config *cfg;
	char *text;

	if (!state_dir || !*state_dir || has_control_char(state_dir) ||
	    strlen(state_dir) > CONFIG_MAX_LINE / 2) {
		snprintf(err, errlen, "(built-in): bad state directory name");
		return NULL;
	}
	text = talloc_asprintf(ctx,
			       "auth = \"plain[passwd=%s]\"\n"
			       "state-dir = \"%s\"\n"
			       "server-cert = \"%s/server-cert.pem\"\n"
			       "server-key = \"%s/server-key.pem\"\n"
			       "ipv4-network = %s\n",
			       config_builtin_passwd, state_dir, state_dir, state_dir,
			       config_builtin_pool);
	if (!text) {
		snprintf(err, errlen, "(built-in): out of memory");
		return NULL;
	}
	cfg = config_load_string(ctx, text, "(built-in)", err, errlen);
	talloc_free(text);
	return cfg;
}

/* "FILE:LINE: key 'NAME'" (without the line when the key took its default) and what is
 * wrong with it, told to report. */
__attribute__((format(printf, 5, 6))) static void report_key(const struct sluice_config *cfg,
							     config_report_fn report, void *data,
							     const char *name, const char *fmt, ...)
{
	const struct config_key *key = config_key_find(name);
	unsigned line = key && cfg->key_lines ? cfg->key_lines[key - config_keys] : 0;
	char what[CONFIG_PROBLEM_MAX - 64], where[64];
	char problem[CONFIG_PROBLEM_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(where, sizeof(where), ":%u", line);
	else
		where[0] = '\0';
	snprintf(problem, sizeof(problem), "%s%s: key '%s': %s", cfg->file, where, name, what);
	report(data, problem);
}

static unsigned check_readable(const struct sluice_config *cfg, const char *key, const char *path,
			       config_report_fn report, void *data)
{
	struct stat st;
	unsigned bad = 0;
	int fd;

	/* O_NONBLOCK: a FIFO in place of a certificate must not hang the start. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		report_key(cfg, report, data, key, "cannot read '%s': %s", path, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		report_key(cfg, report, data, key, "'%s' is not a regular file", path);
		bad = 1;
	}
	close(fd);
	return bad;
}

/* A PAM service without its file falls back to "other", which denies everyone on most
 * systems: a login failure that the log would not explain. */
static unsigned check_pam_file(const struct sluice_config *cfg, const char *key,
			       const char *service, config_report_fn report, void *data)
{
	static const char *const dirs[] = {"/etc/pam.d", "/usr/lib/pam.d"};
	char path[256];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], service);
		if (access(path, R_OK) == 0)
			return 0;
	}
	report_key(cfg, report, data, key,
		   "no PAM service file /etc/pam.d/%s (write one, for example from ocserv's "
		   "/etc/pam.d/ocserv, or name another with pam[service=NAME])",
		   service);
	return 1;
}

static unsigned check_pam_service(const struct sluice_config *cfg, config_report_fn report,
				  void *data)
{
	unsigned bad = 0;

	if (((cfg->auth_required | cfg->auth_alternatives) & CONFIG_AUTH_PASSWORD) &&
	    cfg->password_backend == CONFIG_PW_PAM)
		bad += check_pam_file(cfg, "auth", cfg->pam_service, report, data);
	if (cfg->acct_backend == CONFIG_ACCT_PAM)
		bad += check_pam_file(cfg, "acct", cfg->acct_pam_service, report, data);
	return bad;
}

/* The management API's grants, as sluice-manage will read them: 0 or 1 problem. */
static unsigned check_manage_access(struct sluice_config *cfg, config_report_fn report,
				    void *data)
{
	struct manage_access *a = NULL;
	char err[512];

	if (!cfg->manage_listen)
		return 0;
	if (manage_access_load(NULL, cfg->manage_access, &a, err, sizeof(err)) < 0) {
		report_key(cfg, report, data, "manage-access", "%s", err);
		return 1;
	}
	talloc_free(a);
	return 0;
}

/* run-as-user or run-as-group: 0 or 1 problem. */
static unsigned check_id(struct sluice_config *cfg, bool user, config_report_fn report, void *data)
{
	const char *name = user ? cfg->run_as_user : cfg->run_as_group;
	struct passwd *pw = NULL;
	struct group *gr = NULL;

	errno = 0;
	if (user && (pw = getpwnam(name)))
		cfg->uid = pw->pw_uid;
	else if (!user && (gr = getgrnam(name)))
		cfg->gid = gr->gr_gid;
	if (pw || gr)
		return 0;
	report_key(cfg, report, data, user ? "run-as-user" : "run-as-group", "no %s '%s'%s%s",
		   user ? "user" : "group", name, errno ? ": " : "", errno ? strerror(errno) : "");
	return 1;
}

unsigned config_check_system_report(struct sluice_config *cfg, config_report_fn report, void *data)
{
	bool ldap = ((cfg->auth_required | cfg->auth_alternatives) & CONFIG_AUTH_PASSWORD) &&
		    cfg->password_backend == CONFIG_PW_LDAP;
	const struct {
		const char *key, *path;
	} files[] = {
	    /* What is in a token is sec's to open, with its PIN. */
	    {"server-cert", config_in_token(cfg->server_cert) ? NULL : cfg->server_cert},
	    {"server-key", config_in_token(cfg->server_key) ? NULL : cfg->server_key},
	    {"pin-file", cfg->pin_file},
	    {"ocsp-response", cfg->ocsp_response},
	    {"ca-cert", cfg->ca_cert},
	    {"auth", cfg->passwd_file},
	    {"auth", cfg->otp_file},
	    {"auth", cfg->password_backend == CONFIG_PW_RADIUS ? cfg->radius_config : NULL},
	    {"acct", cfg->acct_radius_config},
	    {"radius-dae-secret-file", cfg->radius_dae_secret_file},
	    {"manage-cert", cfg->manage_listen ? cfg->manage_cert : NULL},
	    {"manage-key", cfg->manage_listen ? cfg->manage_key : NULL},
	    {"manage-ca", cfg->manage_listen ? cfg->manage_ca : NULL},
	    /* What an LDAP helper reads as root when it starts. */
	    {"ldap-bind-password-file", ldap ? cfg->ldap_bind_password_file : NULL},
	    {"ldap-ca-cert", ldap ? cfg->ldap_ca_cert : NULL},
	};
	unsigned bad = check_id(cfg, true, report, data) + check_id(cfg, false, report, data);

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i].path)
			bad += check_readable(cfg, files[i].key, files[i].path, report, data);
	return bad + check_pam_service(cfg, report, data) + check_manage_access(cfg, report, data);
}

struct first_problem {
	char *err;
	size_t errlen;
	unsigned n;
};

static void keep_first(void *data, const char *problem)
{
	struct first_problem *f = data;

	if (f->n++ == 0)
		snprintf(f->err, f->errlen, "%s", problem);
}

int config_check_system(struct sluice_config *cfg, char *err, size_t errlen)
{
	struct first_problem f = {err, errlen, 0};
	size_t len;

	if (config_check_system_report(cfg, keep_first, &f) == 0)
		return 0;
	len = strlen(err);
	if (f.n > 1 && len < errlen)
		snprintf(err + len, errlen - len, " (and %u more problem%s)", f.n - 1,
			 f.n > 2 ? "s" : "");
	return -EINVAL;
}

void config_dump(const struct sluice_config *cfg, FILE *out)
{
	size_t i;

	for (i = 0; i < config_n_keys; i++)
		config_keys[i].type->dump(cfg, &config_keys[i], out);
}

void config_print_schema(FILE *out)
{
	const struct config_key *key;
	size_t i;

	for (i = 0; i < config_n_keys; i++) {
		key = &config_keys[i];
		fprintf(out, "%s\n\t%s", key->name, key->type->name);
		if (strcmp(key->type->name, "number") == 0)
			fprintf(out, " (%u to %u)", key->min, key->max);
		if (key->type->list)
			fprintf(out, ", repeatable (at most %u)", key->max);
		if (key->flags & CONFIG_REQUIRED)
			fprintf(out, "; required");
		else
			fprintf(out, "; default: %s", key->def ? key->def : "unset");
		fprintf(out, "; %s",
			(key->flags & CONFIG_RELOAD) ? "reloaded on SIGHUP" : "needs a restart");
		if (key->flags & CONFIG_USER_ONLY)
			fprintf(out, "; only in per-user and per-group files");
		else if (key->flags & CONFIG_PER_USER)
			fprintf(out, "; allowed per user and group");
		if (key->flags & CONFIG_SLUICE_ONLY)
			fprintf(out, "; sluice only");
		fprintf(out, "\n\t%s\n\n", key->help);
	}
}

/* ocserv's default priorities: LZ4 is faster and usually compresses better. */
static const struct {
	const char *name;
	unsigned priority;
} compression_methods[CONFIG_COMPRESSION_METHODS] = {{"oc-lz4", 90}, {"lzs", 80}};

bool config_compression_known(const char *name, size_t len)
{
	for (size_t i = 0; i < CONFIG_COMPRESSION_METHODS; i++)
		if (strlen(compression_methods[i].name) == len &&
		    strncasecmp(compression_methods[i].name, name, len) == 0)
			return true;
	return false;
}

size_t config_compression_order(const struct sluice_config *cfg,
				const char *out[CONFIG_COMPRESSION_METHODS])
{
	unsigned prio[CONFIG_COMPRESSION_METHODS];
	size_t i, j;

	if (!cfg->compression)
		return 0;
	for (i = 0; i < CONFIG_COMPRESSION_METHODS; i++) {
		size_t len = strlen(compression_methods[i].name);

		prio[i] = compression_methods[i].priority;
		out[i] = compression_methods[i].name;
		/* the schema keeps "method:priority" in lower case; a later line wins */
		for (j = 0; j < cfg->n_comp_priority; j++)
			if (strncmp(cfg->comp_priority[j], out[i], len) == 0 &&
			    cfg->comp_priority[j][len] == ':')
				prio[i] = (unsigned)strtoul(cfg->comp_priority[j] + len + 1, NULL, 10);
	}
	/* two methods: one comparison orders them (the first wins a tie) */
	if (prio[1] > prio[0]) {
		const char *tmp = out[0];

		out[0] = out[1];
		out[1] = tmp;
	}
	return CONFIG_COMPRESSION_METHODS;
}
