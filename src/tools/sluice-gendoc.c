/* sluice-gendoc: build-time generator of the configuration reference in sluiced(8) and
 * of the sample configuration, both from the schema table (config_schema.c), so that
 * the documentation lists exactly the keys, types, defaults and flags the code has.
 *
 *   sluice-gendoc man TEMPLATE   sluiced.8.in with its @CONFIG_KEYS@ line expanded
 *   sluice-gendoc sample         the commented sample configuration
 *   sluice-gendoc ocserv         doc/ocserv-keys.md: what sluice does with each ocserv key
 *
 * Output goes to standard output; exit status 0, 1 on error, 2 on usage error. */
#include "config.h"
#include "common/config.h"
#include "tools/gendoc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <time.h>

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* The template is ours and small; a longer line means the wrong file was given. */
#define TEMPLATE_LINE_MAX 1024
#define KEYS_PLACEHOLDER  "@CONFIG_KEYS@"
#define ROFF_WIDTH        78
/* 9999-12-31T23:59:59Z: four-digit years only. */
#define EPOCH_MAX    253402300799ULL
#define SAMPLE_WIDTH 78

/* Values for keys that have no default: required keys, and those marked set, appear set
 * to these, other ones commented out. Documentation addresses (RFC 5737, RFC 3849) and
 * example.com only. A key without a default and without an entry here stops the build,
 * so that a new key cannot reach the sample configuration without a value that shows
 * its syntax. */
static const struct {
	const char *key, *value;
	bool set; /* set in the sample although not required (one of several alternatives) */
} examples[] = {
    {"auth", "plain[passwd=/etc/sluice/passwd]"},
    {"acct", "radius[config=/etc/radcli/radiusclient.conf]"},
    {"radius-dae-listen", "192.0.2.1:3799"},
    {"radius-dae-secret-file", "/etc/sluice/dae.secret"},
    {"radius-dae-client", "192.0.2.10"},
    {"listen-host", "192.0.2.1"},
    {"udp-listen-host", "192.0.2.1"},
    {"pid-file", "/run/sluiced.pid"},
    {"ban-nftables", "sluice_bans"},
    {"occtl-socket-group", "vpnadmin"},
    {"metrics-listen", "127.0.0.1:9199"},
    {"snmp-agentx", "/var/agentx/master"},
    {"manage-listen", "127.0.0.1:9443"},
    {"manage-cert", "/etc/sluice/manage-cert.pem"},
    {"manage-key", "/etc/sluice/manage-key.pem"},
    {"manage-ca", "/etc/sluice/admin-ca.pem"},
    {"worker-path", "/usr/local/libexec/sluice-worker"},
    {"compression-algo-priority", "lzs:100"},
    {"server-cert", "/etc/sluice/server-cert.pem"},
    {"server-key", "/etc/sluice/server-key.pem"},
    {"ocsp-response", "/etc/sluice/ocsp.der"},
    {"key-pin", "123456"},
    {"pin-file", "/etc/sluice/token-pin"},
    {"ca-cert", "/etc/sluice/ca.pem"},
    {"camouflage_secret", "replace-with-random-text"},
    {"camouflage_realm", "Staff only"},
    {"included-http-headers", "Strict-Transport-Security: max-age=31536000"},
    {"enable-auth", "certificate"},
    {"ldap-uri", "ldaps://dc1.corp.example.com ldaps://dc2.corp.example.com"},
    {"ldap-base", "dc=corp,dc=example,dc=com"},
    {"ldap-bind-dn", "cn=sluice,ou=services,dc=corp,dc=example,dc=com"},
    {"ldap-bind-password-file", "/etc/sluice/ldap-bind-password"},
    {"ldap-group-attribute", "memberOf"},
    {"ldap-group-filter", "(&(objectClass=groupOfNames)(member=%d))"},
    {"ldap-group-base", "ou=groups,dc=corp,dc=example,dc=com"},
    {"ldap-required-group", "vpn-users"},
    {"cert-group-oid", "2.5.4.11"},
    {"crl", "/etc/sluice/crl.pem"},
    {"cert-pin", "sha256:3f8e5d0c2a9b7e61d4c8f0a2b5e7d9c1f3a6b8e0d2c4f6a8b0e2d4c6f8a0b2c4"},
    {"ipv4-network", "192.0.2.0/24", true},
    {"ipv6-network", "2001:db8:1::/48"},
    {"ipv6-prefix", "48"},
    {"explicit-ipv6", "2001:db8:1::77"},
    {"ipv4-netmask", "255.255.255.0"},
    {"dns", "192.0.2.53"},
    {"nbns", "192.0.2.54"},
    {"restrict-user-to-ports", "tcp(443), udp(53), icmp()"},
    {"split-dns", "corp.example.com"},
    {"route", "198.51.100.0/24"},
    {"no-route", "198.51.100.128/25"},
    {"iroute", "192.0.2.128/25"},
    {"explicit-ipv4", "192.0.2.77"},
    {"route-add-cmd", "ip route add %{R} dev %{D}"},
    {"route-del-cmd", "ip route delete %{R} dev %{D}"},
    {"select-group", "engineering[Engineering staff]"},
    {"default-select-group", "DEFAULT"},
    {"config-per-user", "/etc/sluice/config-per-user"},
    {"config-per-group", "/etc/sluice/config-per-group"},
    {"default-user-config", "/etc/sluice/defaults/user.conf"},
    {"default-group-config", "/etc/sluice/defaults/group.conf"},
    {"default-domain", "example.com"},
    {"banner", "Welcome to the example.com VPN."},
    {"pre-login-banner", "Authorized users only."},
    {"user-profile", "/etc/sluice/profile.xml"},
    {"audit-log", "/var/log/sluice/audit.json"},
    {"connect-script", "/etc/sluice/connect.sh"},
    {"disconnect-script", "/etc/sluice/disconnect.sh"},
    {"host-update-script", "/etc/sluice/host-update.sh"},
};

static bool example_set(const struct config_key *key)
{
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++)
		if (strcmp(examples[i].key, key->name) == 0)
			return examples[i].set;
	return false;
}

static const char *example_value(const struct config_key *key)
{
	size_t i;

	for (i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		if (strcmp(examples[i].key, key->name) == 0)
			return examples[i].value;
	}
	return NULL;
}

static size_t roff_char(FILE *out, char c)
{
	if (c == '\\')
		return (size_t)fprintf(out, "\\e");
	if (c == '-')
		return (size_t)fprintf(out, "\\-");
	fputc(c, out);
	return 1;
}

/* One roff text line, split at spaces into lines of at most ROFF_WIDTH bytes where the
 * words allow (roff fills them again). Backslashes and hyphens are escaped, so that a
 * hyphen in a key name or value stays a minus sign when copied from the rendered page;
 * a line starting with '.' or '\'' is kept from being read as a request; control
 * characters become spaces, so nothing starts a line of its own. */
static void roff_line(FILE *out, const char *s)
{
	size_t col = 0;

	for (; *s; s++) {
		char c = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;

		if (c == ' ') {
			size_t word = strcspn(s + 1, " ");

			if (col == 0)
				continue;
			if (col + 1 + word > ROFF_WIDTH) {
				fputc('\n', out);
				col = 0;
				continue;
			}
		}
		if (col == 0 && (c == '.' || c == '\''))
			col += (size_t)fprintf(out, "\\&");
		col += roff_char(out, c);
	}
	fputc('\n', out);
}

static bool ends_with_period(const char *s)
{
	size_t len = strlen(s);

	return len && s[len - 1] == '.';
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* "Type: number (1 to 20); default: 3." and the like, or NULL without memory. */
static char *type_line(const struct config_key *key)
{
	const char *def = (key->flags & CONFIG_REQUIRED) ? "none (required)"
			  : key->def                     ? key->def
							 : "unset";

	if (strcmp(key->type->name, "number") == 0)
		return talloc_asprintf(NULL, "Type: %s (%u to %u); default: %s.", key->type->name,
				       key->min, key->max, def);
	if (key->type->list)
		return talloc_asprintf(NULL, "Type: %s, repeatable (at most %u); default: %s.",
				       key->type->name, key->max, def);
	return talloc_asprintf(NULL, "Type: %s; default: %s.", key->type->name, def);
}

/* "Reloadable: yes; per-user/group: no; sluice only." and the like. */
static char *flags_line(const struct config_key *key)
{
	return talloc_asprintf(NULL, "Reloadable: %s; per-user/group: %s%s.",
			       yes_no(key->flags & CONFIG_RELOAD),
			       (key->flags & CONFIG_USER_ONLY)   ? "only there"
			       : (key->flags & CONFIG_PER_USER) ? "yes"
								 : "no",
			       (key->flags & CONFIG_SLUICE_ONLY) ? "; sluice only" : "");
}

/* The help text is a fragment ("seconds between ..."); the documents make it a
 * sentence. */
static char *help_line(const struct config_key *key)
{
	const char *h = key->help;

	return talloc_asprintf(NULL, "%c%s%s", toupper((unsigned char)h[0]), h[0] ? h + 1 : "",
			       ends_with_period(h) ? "" : ".");
}

/* Writes the three lines of a key's description with write_line, the roff or the
 * comment writer, separated by sep. */
static int describe_key(FILE *out, const struct config_key *key,
			void (*write_line)(FILE *, const char *), const char *sep)
{
	char *lines[3] = {help_line(key), type_line(key), flags_line(key)};
	int ret = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!lines[i])
			ret = -ENOMEM;
	}
	for (i = 0; i < 3 && ret == 0; i++) {
		if (i)
			fputs(sep, out);
		write_line(out, lines[i]);
	}
	for (i = 0; i < 3; i++)
		talloc_free(lines[i]);
	return ret;
}

static int man_key(FILE *out, const struct config_key *key)
{
	fputs(".TP\n.B ", out);
	roff_line(out, key->name);
	return describe_key(out, key, roff_line, ".br\n");
}

/* Writes a template line with every @VERSION@ and @DATE@ replaced. */
static void man_substitute(FILE *out, const char *line, const char *date)
{
	const struct {
		const char *token, *value;
	} subst[] = {{"@VERSION@", PACKAGE_VERSION}, {"@DATE@", date}};
	size_t i;

	while (*line) {
		for (i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
			size_t len = strlen(subst[i].token);

			if (strncmp(line, subst[i].token, len) == 0) {
				fputs(subst[i].value, out);
				line += len;
				break;
			}
		}
		if (i == sizeof(subst) / sizeof(subst[0]))
			fputc(*line++, out);
	}
	fputc('\n', out);
}

/* The page's date: SOURCE_DATE_EPOCH for reproducible builds, else the template's
 * modification time, never the time of the build. */
static int man_date(FILE *in, char *buf, size_t len)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	struct stat st;
	struct tm tm;
	time_t t;

	if (epoch) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(epoch, &end, 10);
		if (errno || end == epoch || *end || *epoch < '0' || *epoch > '9' ||
		    v > EPOCH_MAX) {
			fprintf(stderr, "sluice-gendoc: SOURCE_DATE_EPOCH is not a time: %.32s\n",
				epoch);
			return -EINVAL;
		}
		t = (time_t)v;
	} else if (fstat(fileno(in), &st) == 0) {
		t = st.st_mtime;
	} else {
		return -errno;
	}
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		return -EINVAL;
	return 0;
}

/* Copies the template, replacing @VERSION@ and @DATE@ anywhere and the line
 * @CONFIG_KEYS@ (which must occur exactly once) with the key list. */
static int write_man(const char *template, FILE *out)
{
	char line[TEMPLATE_LINE_MAX + 2], date[32];
	unsigned lineno = 0, placeholders = 0;
	FILE *in = fopen(template, "re");
	int ret = 0;

	if (!in) {
		ret = -errno;
		fprintf(stderr, "sluice-gendoc: %s: %s\n", template, strerror(errno));
		return ret;
	}
	ret = man_date(in, date, sizeof(date));
	if (ret < 0)
		goto out;
	while (fgets(line, sizeof(line), in)) {
		size_t len = strlen(line);

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(in) || len > TEMPLATE_LINE_MAX) {
			fprintf(stderr,
				"sluice-gendoc: %s:%u: line too long (more than %d bytes)\n",
				template, lineno, TEMPLATE_LINE_MAX);
			ret = -EINVAL;
			goto out;
		}
		if (strcmp(line, KEYS_PLACEHOLDER) != 0) {
			man_substitute(out, line, date);
			continue;
		}
		for (size_t i = 0; i < config_n_keys && ret == 0; i++)
			ret = man_key(out, &config_keys[i]);
		if (ret < 0)
			goto out;
		placeholders++;
	}
	if (ferror(in)) {
		fprintf(stderr, "sluice-gendoc: %s: read error\n", template);
		ret = -EIO;
	} else if (placeholders != 1) {
		fprintf(stderr, "sluice-gendoc: %s: expected one line '%s', found %u\n", template,
			KEYS_PLACEHOLDER, placeholders);
		ret = -EINVAL;
	}
out:
	fclose(in);
	return ret;
}

/* Writes text as "# " comment lines of at most SAMPLE_WIDTH columns, breaking at
 * spaces; a word longer than a line gets a line of its own. */
static void sample_comment(FILE *out, const char *text)
{
	const size_t room = SAMPLE_WIDTH - 2;
	size_t col = 0;

	while (*text) {
		size_t word;

		while (*text == ' ')
			text++;
		word = strcspn(text, " ");
		if (!word)
			break;
		if (col && col + 1 + word > room) {
			fputc('\n', out);
			col = 0;
		}
		if (col) {
			fputc(' ', out);
			col++;
		} else {
			fputs("# ", out);
		}
		fprintf(out, "%.*s", (int)word, text);
		col += word;
		text += word;
	}
	if (col)
		fputc('\n', out);
}

/* One paragraph per entry; "" is an empty comment line between paragraphs. */
static const char *const sample_header[] = {
    "sluiced configuration file (see sluiced(8)).",
    "",
    "Syntax, as ocserv reads it: one 'key = value' per line. Lines starting with '#' or "
    "';' are comments; elsewhere these characters are part of the value. A value may be "
    "put in double quotes, which are removed. Repeatable keys take one value per line; "
    "any other key may appear once. Sections such as [vhost:name] are not supported, and "
    "an ocserv key that sluice does not implement is an error rather than being ignored. "
    "'sluiced -t -c FILE' checks a file; errors name the file, the line and the key.",
    "",
    "Every key is listed below in the order of 'sluiced --dump-config'. Required keys, and "
    "ipv4-network (one address pool, ipv4-network or ipv6-network, is required), are "
    "set to example values that must be changed; every other key is commented out, "
    "showing its default or, where it has none, an example. 'Reloadable' says whether a "
    "SIGHUP applies a new value (to new connections); other keys keep their running value "
    "until a restart. 'Per-user/group' says whether the key may also be set in per-user "
    "and per-group files.",
};

static int sample_key(FILE *out, const struct config_key *key)
{
	const char *value = key->def ? key->def : example_value(key);
	int ret;

	if (!value) {
		fprintf(stderr,
			"sluice-gendoc: key '%s' has neither a default nor an example value "
			"(add one to examples[] in sluice-gendoc.c)\n",
			key->name);
		return -EINVAL;
	}
	fputc('\n', out);
	ret = describe_key(out, key, sample_comment, "");
	if (ret < 0)
		return ret;
	if (!(key->flags & CONFIG_REQUIRED) && !example_set(key))
		fputc('#', out);
	config_print_value(out, key->name, value);
	return 0;
}

static int write_sample(FILE *out)
{
	size_t i;
	int ret;

	for (i = 0; i < sizeof(sample_header) / sizeof(sample_header[0]); i++) {
		if (*sample_header[i])
			sample_comment(out, sample_header[i]);
		else
			fputs("#\n", out);
	}
	for (i = 0; i < config_n_keys; i++) {
		ret = sample_key(out, &config_keys[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: sluice-gendoc man TEMPLATE\n"
	      "       sluice-gendoc sample\n"
	      "       sluice-gendoc ocserv\n"
	      "Writes sluiced(8) from TEMPLATE, the sample configuration, or the table of "
	      "ocserv's keys (Markdown) to standard output.\n",
	      out);
}

int main(int argc, char **argv)
{
	int ret;

	if (argc == 3 && strcmp(argv[1], "man") == 0) {
		ret = write_man(argv[2], stdout);
	} else if (argc == 2 && strcmp(argv[1], "sample") == 0) {
		ret = write_sample(stdout);
	} else if (argc == 2 && strcmp(argv[1], "ocserv") == 0) {
		ret = gendoc_ocserv_keys(stdout);
	} else if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return EXIT_OK;
	} else {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sluice-gendoc: write error: %s\n", strerror(errno));
		return EXIT_ERROR;
	}
	return ret < 0 ? EXIT_ERROR : EXIT_OK;
}
