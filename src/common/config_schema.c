#include "config.h"
#include "common/config.h"
#include "common/ports.h"
#include "common/config_ldap.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/un.h>

#define TIMER_MAX (7 * 24 * 3600)
#define SESSION_MAX (366 * 24 * 3600)
/* session-quota-bytes: an exabyte, far from any wrap of a 64-bit sum. */
#define BYTES_MAX 1000000000000000000ULL
/* Every text value stays far below the line limit, so that a dump reads back. */
#define PATH_LEN_MAX 1024
/* ipv6-network's prefix length (lease.h: LEASE6_PREFIX_MIN). */
#define IPV6_NET_MIN 16
#define IPV6_NET_MAX 126
/* camouflage_secret: at most the worker's buffer (worker/camouflage.h: CAMO_SECRET_MAX);
 * shorter than CAMO_SECRET_MIN earns a warning. */
#define CAMO_SECRET_MAX 256
#define CAMO_SECRET_MIN 16

const char config_builtin_passwd[] = "/etc/sluice/passwd";
/* An RFC 1918 range that home and office networks rarely use. */
const char config_builtin_pool[] = "10.77.0.0/24";

__attribute__((format(printf, 2, 3))) static int bad(struct config_arg *arg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(arg->why, arg->whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void *field(struct sluice_config *cfg, const struct config_key *key)
{
	return (char *)cfg + key->offset;
}

static const void *cfield(const struct sluice_config *cfg, const struct config_key *key)
{
	return (const char *)cfg + key->offset;
}

static int set_string(struct config_arg *arg, const char *value)
{
	char **dst = field(arg->cfg, arg->key);
	char *copy = talloc_strdup(arg->cfg, value);

	if (!copy)
		return -ENOMEM;
	talloc_free(*dst);
	*dst = copy;
	return 0;
}

static int list_add(struct config_arg *arg, const char *value)
{
	char ***items = field(arg->cfg, arg->key);
	size_t *n = (size_t *)((char *)arg->cfg + arg->key->count_offset);
	char **grown;

	if (*n >= arg->key->max)
		return bad(arg, "too many values (at most %u)", arg->key->max);
	grown = talloc_realloc(arg->cfg, *items, char *, *n + 1);
	if (!grown)
		return -ENOMEM;
	*items = grown;
	grown[*n] = talloc_strdup(grown, value);
	if (!grown[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Decimal digits only; anything above UINT_MAX counts as out of range, never wraps. */
static int parse_number(struct config_arg *arg, const char *s, unsigned min, unsigned max,
			unsigned *out)
{
	uint64_t v = 0;
	const char *p;

	if (!*s)
		return bad(arg, "'%.64s' is not a number (expected %u to %u)", s, min, max);
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad(arg, "'%.64s' is not a number (expected %u to %u)", s, min, max);
		if (v <= UINT_MAX)
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < min || v > max)
		return bad(arg, "%.32s is out of range (expected %u to %u)", s, min, max);
	*out = (unsigned)v;
	return 0;
}

static int parse_uint(struct config_arg *arg)
{
	unsigned v;
	int ret = parse_number(arg, arg->value, arg->key->min, arg->key->max, &v);

	if (ret == 0)
		*(unsigned *)field(arg->cfg, arg->key) = v;
	return ret;
}

/* A byte count (session-quota-bytes): decimal digits, 0 to BYTES_MAX. */
static int parse_bytes(struct config_arg *arg)
{
	uint64_t v = 0;

	for (const char *p = arg->value; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad(arg, "'%.64s' is not a number of bytes (expected 0 to %llu)",
				   arg->value, BYTES_MAX);
		if (v > BYTES_MAX)
			continue; /* out of range already; never wraps */
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > BYTES_MAX)
		return bad(arg, "%.32s is out of range (expected 0 to %llu)", arg->value, BYTES_MAX);
	*(uint64_t *)field(arg->cfg, arg->key) = v;
	return 0;
}

static const char *const same_clients_policy_name[] = {
    [CONFIG_SAME_REFUSE] = "refuse",
    [CONFIG_SAME_REPLACE_OLDEST] = "replace-oldest",
};

static int parse_same_clients_policy(struct config_arg *arg)
{
	for (unsigned i = 0; i < sizeof(same_clients_policy_name) / sizeof(char *); i++) {
		if (strcmp(arg->value, same_clients_policy_name[i]) == 0) {
			arg->cfg->max_same_clients_policy = (enum config_same_clients_policy)i;
			return 0;
		}
	}
	return bad(arg, "'%.64s' is not a policy (expected refuse or replace-oldest)", arg->value);
}

static const char *const rekey_method_name[] = {
    [CONFIG_REKEY_SSL] = "ssl",
    [CONFIG_REKEY_NEW_TUNNEL] = "new-tunnel",
};

static int parse_rekey_method(struct config_arg *arg)
{
	for (unsigned i = 0; i < sizeof(rekey_method_name) / sizeof(char *); i++) {
		if (strcmp(arg->value, rekey_method_name[i]) == 0) {
			arg->cfg->rekey_method = (enum config_rekey_method)i;
			return 0;
		}
	}
	return bad(arg, "'%.64s' is not a method (expected ssl or new-tunnel)", arg->value);
}

static void dump_rekey_method(const struct sluice_config *cfg, const struct config_key *key,
			      FILE *out)
{
	fprintf(out, "%s = %s\n", key->name, rekey_method_name[cfg->rekey_method]);
}

/* compression-algo-priority: METHOD:PRIORITY as in ocserv; a method with a higher
 * priority is chosen first among those the client offers (config_compression_order). */
static int parse_comp_priority(struct config_arg *arg)
{
	const char *v = arg->value, *colon = strchr(v, ':');
	unsigned prio;
	char canon[32];
	int ret;

	if (!colon || !config_compression_known(v, (size_t)(colon - v)))
		return bad(arg, "'%.64s' is not METHOD:PRIORITY with a method of oc-lz4 or lzs", v);
	ret = parse_number(arg, colon + 1, 1, 1000, &prio);
	if (ret < 0)
		return ret;
	snprintf(canon, sizeof(canon), "%.*s:%u", (int)(colon - v), v, prio);
	for (char *p = canon; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return list_add(arg, canon);
}

static int parse_mtu(struct config_arg *arg)
{
	unsigned v;
	int ret = parse_number(arg, arg->value, 0, 9000, &v);

	if (ret < 0)
		return ret;
	if (v != 0 && v < 576)
		return bad(arg, "%u is out of range (expected 0 or 576 to 9000)", v);
	arg->cfg->mtu = v;
	return 0;
}

static int parse_bool_text(struct config_arg *arg, bool *out)
{
	static const char *const yes[] = {"true", "yes", "1"};
	static const char *const no[] = {"false", "no", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(arg->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(arg->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return bad(arg, "'%.64s' is not a boolean (expected true/false, yes/no or 1/0)",
		   arg->value);
}

static int parse_bool(struct config_arg *arg)
{
	return parse_bool_text(arg, (bool *)field(arg->cfg, arg->key));
}

/* The sandbox is not optional in sluice; the key stays accepted so that ocserv files
 * load, and saying no only earns a warning. */
static int parse_sandbox(struct config_arg *arg)
{
	bool on;
	int ret = parse_bool_text(arg, &on);

	if (ret < 0)
		return ret;
	if (!on)
		arg->warning =
		    "the worker sandbox cannot be turned off; isolate-workers = false is "
		    "ignored";
	arg->cfg->isolate_workers = true;
	return 0;
}

/* ocserv pings an address before it leases it, to find hosts that took one by hand;
 * sluice leases only from its own pools and does not, so it takes only "false". */
static int parse_ping_leases(struct config_arg *arg)
{
	bool on;
	int ret = parse_bool_text(arg, &on);

	if (ret < 0)
		return ret;
	if (on)
		return bad(arg, "sluice does not ping an address before it leases it (its pools "
				"must hold no other host's address); set it to false or remove it");
	arg->cfg->ping_leases = false;
	return 0;
}

/* ocserv's try-mtu-discovery lowers a session's MTU when its DTLS sends fail for size;
 * sluice does not probe: taken, with a warning that says what happens instead. */
static int parse_mtu_discovery(struct config_arg *arg)
{
	int ret = parse_bool_text(arg, &arg->cfg->try_mtu_discovery);

	if (ret == 0 && arg->cfg->try_mtu_discovery)
		arg->warning = "try-mtu-discovery has no effect: the tunnel MTU comes from the path "
			       "MTU the client measured (X-CSTP-Base-MTU) less the DTLS cipher's "
			       "overhead, and a packet too large for a DTLS datagram goes over TLS";
	return ret;
}

/* restrict-user-to-ports, kept in the canonical form its dump writes. */
static int parse_ports(struct config_arg *arg)
{
	struct port_list l;
	char why[160], *text;

	if (ports_parse(arg->value, &l, why, sizeof(why)) < 0)
		return bad(arg, "%s", why);
	text = talloc_strdup(arg->cfg, l.deny ? "!(" : "");
	for (size_t i = 0; text && i < l.n; i++) {
		text = talloc_asprintf_append(text, "%s%s(", i ? ", " : "",
					      ports_proto_name(l.rules[i].proto));
		if (text && ports_proto_has_port(l.rules[i].proto))
			text = talloc_asprintf_append(text, "%u", l.rules[i].port);
		if (text)
			text = talloc_strdup_append(text, ")");
	}
	if (text && l.deny)
		text = talloc_strdup_append(text, ")");
	if (!text)
		return -ENOMEM;
	talloc_free(*(char **)field(arg->cfg, arg->key));
	*(char **)field(arg->cfg, arg->key) = text;
	return 0;
}

static int parse_string(struct config_arg *arg)
{
	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u bytes)", arg->key->max);
	return set_string(arg, arg->value);
}

/* User and group names as useradd(8) takes them, so that nothing odd reaches getpwnam. */
static int parse_account(struct config_arg *arg)
{
	const char *p;

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u characters)", arg->key->max);
	for (p = arg->value; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return bad(arg,
				   "'%.64s' is not a valid name (letters, digits, '.', '_', '-')",
				   arg->value);
	}
	if (arg->value[0] == '-')
		return bad(arg, "'%.64s' is not a valid name (must not start with '-')",
			   arg->value);
	return set_string(arg, arg->value);
}

/* "group" or "group[Label]": a group users may choose on the login form. */
static int parse_select_group(struct config_arg *arg)
{
	const char *v = arg->value, *open = strchr(v, '[');
	size_t nlen = open ? (size_t)(open - v) : strlen(v);
	const char *p;

	if (nlen == 0 || nlen > 32 || v[0] == '-')
		return bad(arg, "'%.64s': expected group or group[Label] (a name of 1 to 32 "
			   "letters, digits, '.', '_', '-')", v);
	for (p = v; p < v + nlen; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return bad(arg, "'%.64s': '%c' cannot be in a group name", v, *p);
	if (open) {
		size_t llen = strlen(open + 1);

		if (llen < 2 || llen > 65 || open[llen] != ']' ||
		    strpbrk(open + 1, "[]") != open + llen)
			return bad(arg, "'%.64s': the label goes in one pair of brackets at the "
				   "end, 1 to 64 characters", v);
	}
	return list_add(arg, v);
}

static int parse_device(struct config_arg *arg)
{
	const char *p;

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "'%.64s' is too long (at most %u characters)", arg->value,
			   arg->key->max);
	for (p = arg->value; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return bad(arg,
				   "'%.64s' is not a valid device prefix (letters, digits, "
				   "'-', '_')",
				   arg->value);
	}
	return set_string(arg, arg->value);
}

/* ban-nftables: the name of the table sluiced makes, which goes into nft commands as it
 * is: a letter, then letters, digits and '_', as nft takes a name without quotes. */
static int parse_nft_table(struct config_arg *arg)
{
	const char *v = arg->value;

	if (strlen(v) > arg->key->max)
		return bad(arg, "'%.64s' is too long (at most %u characters)", v, arg->key->max);
	if (!isalpha((unsigned char)v[0]))
		return bad(arg, "'%.64s' is not a table name (it starts with a letter)", v);
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return bad(arg, "'%.64s' is not a table name (letters, digits, '_')", v);
	return set_string(arg, v);
}

/* filter.c's table is "inet sluice_<device>": the two must not replace each other. */
static int check_ban_nftables(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;

	if (c->device && strncmp(c->ban_nftables, "sluice_", 7) == 0 &&
	    strcmp(c->ban_nftables + 7, c->device) == 0)
		return bad(arg, "'%s' is the table of the per-session packet policy of device "
			   "'%s'; name another", c->ban_nftables, c->device);
	return 0;
}

/* Space-separated DNS search domains, as ocserv accepts them. */
static int parse_domains(struct config_arg *arg)
{
	const char *p;

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u bytes)", arg->key->max);
	for (p = arg->value; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr(".- ", *p))
			return bad(arg, "'%.64s' is not a list of domain names", arg->value);
	}
	return set_string(arg, arg->value);
}

/* One DNS domain (split-dns): labels of letters, digits and '-', 1 to 63 bytes each,
 * separated by single dots, 253 bytes at most: what a client may get in a header. */
static int parse_domain(struct config_arg *arg)
{
	const char *v = arg->value;
	size_t label = 0, len = strlen(v);

	if (len > 253 || v[0] == '.' || v[len - 1] == '.')
		return bad(arg, "'%.64s' is not a domain name (e.g. corp.example.com)", v);
	for (const char *p = v; *p; p++) {
		if (*p == '.' && label > 0) {
			label = 0;
			continue;
		}
		if ((!isalnum((unsigned char)*p) && *p != '-') || ++label > 63)
			return bad(arg, "'%.64s' is not a domain name (e.g. corp.example.com)", v);
	}
	return list_add(arg, v);
}

/* One file option of plain[...]. */
struct plain_opt {
	const char *file;
	size_t len;
};

/* plain[passwd=FILE], plain[passwd=FILE,otp=FILE] or ocserv's older plain[FILE]: the
 * files' names (start, length; otp's is NULL when not named), or -EINVAL with why set. */
static int plain_files(struct config_arg *arg, const char *v, struct plain_opt *pw,
		       struct plain_opt *otp)
{
	size_t len = strlen(v);
	const char *opt, *end;

	pw->file = otp->file = NULL;
	if (!v[5])
		return bad(arg, "plain needs a password file: plain[passwd=FILE]");
	if (v[len - 1] != ']' || len < 8 || v[5] != '[' || strpbrk(v + 6, "[") ||
	    strchr(v + 6, ']') != v + len - 1)
		return bad(arg, "'%.64s' is not plain[passwd=FILE] or plain[passwd=FILE,otp=FILE]",
			   v);
	end = v + len - 1;
	for (opt = v + 6; opt < end; opt += strcspn(opt, ",]") + 1) {
		size_t olen = strcspn(opt, ",]"), nlen = strcspn(opt, "=,]");
		struct plain_opt *o = pw;

		if (nlen < olen && nlen == 3 && strncmp(opt, "otp", 3) == 0)
			o = otp;
		else if (nlen < olen && (nlen != 6 || strncmp(opt, "passwd", 6) != 0))
			return bad(arg,
				   "unsupported option '%.*s' of plain (sluice supports passwd=FILE "
				   "and otp=FILE)",
				   (int)(nlen > 32 ? 32 : nlen), opt);
		if (nlen == olen && (opt != v + 6 || opt + olen != end))
			return bad(arg, "'%.64s' is not plain[passwd=FILE,otp=FILE]", v);
		if (o->file)
			return bad(arg, "more than one %s file in '%.64s'",
				   o == pw ? "password" : "OTP", v);
		if (opt[olen] == ',' && opt + olen + 1 == end)
			return bad(arg, "'%.64s' is not plain[passwd=FILE,otp=FILE]", v);
		o->file = nlen < olen ? opt + nlen + 1 : opt;
		o->len = (size_t)(opt + olen - o->file);
		if (o->len == 0)
			return bad(arg, "empty %s file name in '%.64s'", o == pw ? "password" : "OTP",
				   v);
		if (o->len > PATH_LEN_MAX)
			return bad(arg, "%s file name too long (at most %d bytes)",
				   o == pw ? "password" : "OTP", PATH_LEN_MAX);
	}
	/* ocserv takes otp= alone for logins by one-time password only; sluice asks for
	 * the password too. */
	if (!pw->file)
		return bad(arg, "plain needs a password file: plain[passwd=FILE] (sluice does not "
				"support logins by one-time password alone)");
	return 0;
}

/* The options of a method written "name[key=value,...]" (nlen: the name's length), each
 * handed to fn; none when the method is written without brackets. 0, or fn's or the
 * syntax's error (why set; form names the method's full form). */
static int method_options(struct config_arg *arg, size_t nlen, const char *form,
			  int (*fn)(struct config_arg *arg, const char *key, size_t klen,
				    const char *val, size_t vlen))
{
	const char *v = arg->value, *opt, *end;
	size_t len = strlen(v);

	if (!v[nlen])
		return 0;
	if (v[nlen] != '[' || v[len - 1] != ']' || len < nlen + 3 ||
	    strchr(v + nlen + 1, '[') || strchr(v + nlen + 1, ']') != v + len - 1)
		return bad(arg, "'%.64s' is not %s", v, form);
	end = v + len - 1;
	for (opt = v + nlen + 1; opt < end; opt += strcspn(opt, ",]") + 1) {
		size_t olen = strcspn(opt, ",]");
		const char *eq = memchr(opt, '=', olen);
		int ret;

		if (!eq || eq == opt || eq + 1 == opt + olen)
			return bad(arg, "'%.*s' in '%.64s' is not key=value (%s)",
				   (int)(olen > 32 ? 32 : olen), opt, v, form);
		ret = fn(arg, opt, (size_t)(eq - opt), eq + 1, (size_t)(opt + olen - eq - 1));
		if (ret < 0)
			return ret;
	}
	return 0;
}

static bool opt_is(const char *key, size_t klen, const char *name)
{
	return klen == strlen(name) && strncmp(key, name, klen) == 0;
}

/* A name made of letters, digits and "._-", not starting with a dot, at most max bytes:
 * a PAM service (a file in /etc/pam.d) or a NAS-Identifier. */
static bool plain_name(const char *s, size_t len, size_t max)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

	if (len == 0 || len > max || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr(ok, s[i]) || !s[i])
			return false;
	return true;
}

/* A string option's value into *dst (on the configuration). */
static int opt_set(struct config_arg *arg, char **dst, const char *val, size_t vlen)
{
	talloc_free(*dst);
	*dst = talloc_strndup(arg->cfg, val, vlen);
	return *dst ? 0 : -ENOMEM;
}

/* config=FILE of radius[...] (logins or accounting): radcli's configuration. */
static int opt_radcli_config(struct config_arg *arg, char **dst, const char *val, size_t vlen)
{
	if (vlen > PATH_LEN_MAX)
		return bad(arg, "radcli configuration file name too long (at most %d bytes)",
			   PATH_LEN_MAX);
	return opt_set(arg, dst, val, vlen);
}

/* nas-identifier=NAME of radius[...]. */
static int opt_nas_identifier(struct config_arg *arg, char **dst, const char *val, size_t vlen)
{
	if (!plain_name(val, vlen, 64))
		return bad(arg, "nas-identifier in '%.64s' is not a name of letters, digits and ._-",
			   arg->value);
	return opt_set(arg, dst, val, vlen);
}

/* service=NAME of pam[...]: a file in /etc/pam.d. */
static int opt_pam_service(struct config_arg *arg, char **dst, const char *val, size_t vlen)
{
	if (!plain_name(val, vlen, 64))
		return bad(arg, "service in '%.64s' is not a PAM service name", arg->value);
	return opt_set(arg, dst, val, vlen);
}

static int pam_option(struct config_arg *arg, const char *key, size_t klen, const char *val,
		      size_t vlen)
{
	struct sluice_config *c = arg->cfg;

	if (opt_is(key, klen, "gid-min")) {
		char num[16], *e;
		unsigned long n;

		if (vlen >= sizeof(num) || !isdigit((unsigned char)val[0]))
			return bad(arg, "gid-min in '%.64s' is not a group id", arg->value);
		memcpy(num, val, vlen);
		num[vlen] = '\0';
		errno = 0;
		n = strtoul(num, &e, 10);
		if (errno || *e || n > UINT32_MAX)
			return bad(arg, "gid-min in '%.64s' is not a group id", arg->value);
		c->pam_gid_min = (unsigned)n;
		return 0;
	}
	if (opt_is(key, klen, "service"))
		return opt_pam_service(arg, &c->pam_service, val, vlen);
	return bad(arg, "unsupported option '%.*s' of pam (sluice supports gid-min=N and service=NAME)",
		   (int)(klen > 32 ? 32 : klen), key);
}

static int radius_option(struct config_arg *arg, const char *key, size_t klen, const char *val,
			 size_t vlen)
{
	struct sluice_config *c = arg->cfg;

	if (opt_is(key, klen, "config"))
		return opt_radcli_config(arg, &c->radius_config, val, vlen);
	if (opt_is(key, klen, "groupconfig")) {
		if (vlen == 4 && strncmp(val, "true", 4) == 0)
			c->radius_groupconfig = true;
		else if (vlen == 5 && strncmp(val, "false", 5) == 0)
			c->radius_groupconfig = false;
		else
			return bad(arg, "groupconfig in '%.64s' is not true or false", arg->value);
		return 0;
	}
	if (opt_is(key, klen, "nas-identifier"))
		return opt_nas_identifier(arg, &c->radius_nas_identifier, val, vlen);
	return bad(arg,
		   "unsupported option '%.*s' of radius (sluice supports config=FILE, "
		   "groupconfig=true|false and nas-identifier=NAME)",
		   (int)(klen > 32 ? 32 : klen), key);
}

static int acct_option(struct config_arg *arg, const char *key, size_t klen, const char *val,
		       size_t vlen)
{
	struct sluice_config *c = arg->cfg;

	if (opt_is(key, klen, "config"))
		return opt_radcli_config(arg, &c->acct_radius_config, val, vlen);
	if (opt_is(key, klen, "nas-identifier"))
		return opt_nas_identifier(arg, &c->acct_nas_identifier, val, vlen);
	return bad(arg,
		   "unsupported option '%.*s' of radius accounting (sluice supports config=FILE and "
		   "nas-identifier=NAME)",
		   (int)(klen > 32 ? 32 : klen), key);
}

static int acct_pam_option(struct config_arg *arg, const char *key, size_t klen,
			   const char *val, size_t vlen)
{
	struct sluice_config *c = arg->cfg;

	if (!opt_is(key, klen, "service"))
		return bad(arg, "unsupported option '%.*s' of pam accounting (sluice supports "
				"service=NAME)",
			   (int)(klen > 32 ? 32 : klen), key);
	return opt_pam_service(arg, &c->acct_pam_service, val, vlen);
}

/* acct = pam[service=NAME]: a PAM session (pam_open_session, pam_close_session) for
 * every tunnel, as ocserv's acct = "pam". */
static int parse_acct_pam(struct config_arg *arg)
{
	struct sluice_config *c = arg->cfg;
	char *text;
	int ret;

	talloc_free(c->acct_pam_service);
	c->acct_pam_service = talloc_strdup(c, "sluice");
	if (!c->acct_pam_service)
		return -ENOMEM;
	ret = method_options(arg, 3, "pam[service=NAME]", acct_pam_option);
	if (ret < 0)
		return ret;
	text = talloc_asprintf(c, "pam[service=%s]", c->acct_pam_service);
	if (!text)
		return -ENOMEM;
	ret = set_string(arg, text);
	talloc_free(text);
	if (ret == 0)
		c->acct_backend = CONFIG_ACCT_PAM;
	return ret;
}

/* acct = radius[config=FILE,nas-identifier=NAME]: RADIUS accounting through radcli; or
 * acct = pam[...]. */
static int parse_acct(struct config_arg *arg)
{
	struct sluice_config *c = arg->cfg;
	const char *v = arg->value;
	char *text;
	int ret;

	TALLOC_FREE(c->acct_pam_service);
	c->acct_backend = CONFIG_ACCT_NONE;
	if (strncmp(v, "pam", 3) == 0 && (!v[3] || v[3] == '['))
		return parse_acct_pam(arg);
	if (strncmp(v, "radius", 6) != 0 || (v[6] && v[6] != '['))
		return bad(arg, "unsupported accounting method '%.32s' (sluice supports "
				"radius[config=FILE,nas-identifier=NAME] and pam[service=NAME])",
			   v);
	TALLOC_FREE(c->acct_radius_config);
	TALLOC_FREE(c->acct_nas_identifier);
	ret = method_options(arg, 6, "radius[config=FILE,nas-identifier=NAME]", acct_option);
	if (ret < 0)
		return ret;
	if (!c->acct_radius_config)
		return bad(arg, "radius accounting needs radcli's configuration: radius[config=FILE]");
	text = talloc_asprintf(c, "radius[config=%s%s%s]", c->acct_radius_config,
			       c->acct_nas_identifier ? ",nas-identifier=" : "",
			       c->acct_nas_identifier ? c->acct_nas_identifier : "");
	if (!text)
		return -ENOMEM;
	ret = set_string(arg, text);
	talloc_free(text);
	if (ret == 0)
		c->acct_backend = CONFIG_ACCT_RADIUS;
	return ret;
}

/* ldap is set up by the ldap-* keys, which the man page and --dump-config show like
 * every other key. */
static int ldap_option(struct config_arg *arg, const char *key, size_t klen, const char *val,
		       size_t vlen)
{
	return bad(arg, "ldap takes no options: the ldap-* keys set it up (ldap-uri, ldap-base, "
			"...)");
}

/* pam[gid-min=N,service=NAME], radius[config=FILE,groupconfig=BOOL,nas-identifier=NAME] or
 * ldap: the password method in cfg, its canonical text in the key's list. */
static int parse_backend(struct config_arg *arg, enum config_password_backend be)
{
	struct sluice_config *c = arg->cfg;
	char *text;
	int ret;

	if (be == CONFIG_PW_PAM) {
		talloc_free(c->pam_service);
		c->pam_service = talloc_strdup(c, "sluice");
		c->pam_gid_min = 0;
		if (!c->pam_service)
			return -ENOMEM;
		ret = method_options(arg, 3, "pam[gid-min=N,service=NAME]", pam_option);
		text = ret < 0 ? NULL
			       : talloc_asprintf(c, "pam[gid-min=%u,service=%s]", c->pam_gid_min,
						 c->pam_service);
	} else if (be == CONFIG_PW_LDAP) {
		ret = method_options(arg, 4, "ldap", ldap_option);
		text = ret < 0 ? NULL : talloc_strdup(c, "ldap");
	} else {
		TALLOC_FREE(c->radius_config);
		TALLOC_FREE(c->radius_nas_identifier);
		c->radius_groupconfig = false;
		ret = method_options(arg, 6, "radius[config=FILE,groupconfig=BOOL,nas-identifier=NAME]",
				     radius_option);
		if (ret == 0 && !c->radius_config)
			return bad(arg, "radius needs radcli's configuration: radius[config=FILE]");
		text = ret < 0 ? NULL
			       : talloc_asprintf(c, "radius[config=%s,groupconfig=%s%s%s]",
						 c->radius_config,
						 c->radius_groupconfig ? "true" : "false",
						 c->radius_nas_identifier ? ",nas-identifier=" : "",
						 c->radius_nas_identifier ? c->radius_nas_identifier
									  : "");
	}
	if (ret < 0)
		return ret;
	if (!text)
		return -ENOMEM;
	ret = list_add(arg, text);
	talloc_free(text);
	if (ret == 0)
		c->password_backend = be;
	return ret;
}

/* The password methods that run in auth helpers, by the name auth gives them. */
static const struct {
	const char *name;
	enum config_password_backend be;
} helper_methods[] = {
    {"pam", CONFIG_PW_PAM},
    {"radius", CONFIG_PW_RADIUS},
    {"ldap", CONFIG_PW_LDAP},
};

/* One method of auth or enable-auth: plain[passwd=FILE] or plain[passwd=FILE,otp=FILE]
 * (stored in that form), pam[...], radius[...], ldap or certificate. A method may be
 * named once in the two keys together, and only one password method (plain, pam, radius
 * or ldap) is allowed, as in ocserv. */
static int parse_auth(struct config_arg *arg)
{
	const char *v = arg->value;
	size_t mlen = strcspn(v, "[");
	bool alt = arg->key->offset == offsetof(struct sluice_config, enable_auth);
	unsigned *bits = alt ? &arg->cfg->auth_alternatives : &arg->cfg->auth_required;
	unsigned named = arg->cfg->auth_required | arg->cfg->auth_alternatives;
	struct plain_opt pwo, otpo;
	char *pw, *otp = NULL, *text;
	int ret;

	if (strcmp(v, "certificate") == 0) {
		if (named & CONFIG_AUTH_CERT)
			return bad(arg, "certificate is named twice in auth and enable-auth");
		*bits |= CONFIG_AUTH_CERT;
		return list_add(arg, v);
	}
	for (size_t i = 0; i < sizeof(helper_methods) / sizeof(helper_methods[0]); i++) {
		if (mlen != strlen(helper_methods[i].name) ||
		    strncmp(v, helper_methods[i].name, mlen) != 0)
			continue;
		if (named & CONFIG_AUTH_PASSWORD)
			return bad(arg, "only one password method (plain, pam, radius or ldap) may "
					"be named in auth and enable-auth");
		ret = parse_backend(arg, helper_methods[i].be);
		if (ret == 0)
			*bits |= CONFIG_AUTH_PASSWORD;
		return ret;
	}
	if (mlen != 5 || strncmp(v, "plain", 5) != 0)
		return bad(arg,
			   "unsupported authentication method '%.*s' (sluice supports "
			   "plain[passwd=FILE,otp=FILE], pam[gid-min=N,service=NAME], "
			   "radius[config=FILE,groupconfig=BOOL,nas-identifier=NAME], ldap and "
			   "certificate)",
			   (int)(mlen > 32 ? 32 : mlen), v);
	ret = plain_files(arg, v, &pwo, &otpo);
	if (ret < 0)
		return ret;
	if (named & CONFIG_AUTH_PASSWORD)
		return bad(arg, "only one password method (plain, pam, radius or ldap) may be named "
				"in auth and enable-auth");
	pw = talloc_strndup(arg->cfg, pwo.file, pwo.len);
	if (pw && otpo.file)
		otp = talloc_strndup(arg->cfg, otpo.file, otpo.len);
	if (!pw || (otpo.file && !otp)) {
		talloc_free(pw);
		return -ENOMEM;
	}
	text = otp ? talloc_asprintf(pw, "plain[passwd=%s,otp=%s]", pw, otp)
		   : talloc_asprintf(pw, "plain[passwd=%s]", pw);
	ret = list_add(arg, text);
	if (ret < 0) {
		talloc_free(pw);
		talloc_free(otp);
		return ret;
	}
	*bits |= CONFIG_AUTH_PASSWORD;
	arg->cfg->password_backend = CONFIG_PW_PLAIN;
	talloc_free(arg->cfg->passwd_file);
	arg->cfg->passwd_file = pw;
	talloc_free(arg->cfg->otp_file);
	arg->cfg->otp_file = otp;
	return 0;
}

/* The DAE listener needs its secret and at least one client. */
static int check_dae(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;

	if (!c->radius_dae_listen)
		return 0;
	if (!c->radius_dae_secret_file)
		return bad(arg, "radius-dae-listen needs radius-dae-secret-file");
	if (!c->n_radius_dae_clients)
		return bad(arg, "radius-dae-listen needs at least one radius-dae-client");
	return 0;
}

static bool ldap_in_use(const struct sluice_config *c)
{
	return ((c->auth_required | c->auth_alternatives) & CONFIG_AUTH_PASSWORD) &&
	       c->password_backend == CONFIG_PW_LDAP;
}

/* auth = ldap needs to know the directory, and one LDAP operation must end before the
 * helper's own deadline does, so that a server that does not answer is reported as such. */
static int check_ldap(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;

	if (!c->ldap_uri)
		return bad(arg, "ldap needs ldap-uri, the directory's ldap:// or ldaps:// URI");
	if (!c->ldap_base)
		return bad(arg, "ldap needs ldap-base, the DN under which users are searched");
	/* A simple bind with a DN and no password is an anonymous one that "succeeds". */
	if (!c->ldap_bind_dn != !c->ldap_bind_password_file)
		return bad(arg, "ldap-bind-dn and ldap-bind-password-file go together (neither: an "
				"anonymous search)");
	if (c->ldap_timeout >= c->auth_helper_timeout)
		return bad(arg, "ldap-timeout (%u s) must be below auth-helper-timeout (%u s)",
			   c->ldap_timeout, c->auth_helper_timeout);
	return 0;
}

/* The management API needs its own certificate and key: server-key stays sec's. */
static int check_manage(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;

	if (!c->manage_listen)
		return 0;
	if (!c->manage_cert || !c->manage_key)
		return bad(arg, "manage-listen needs manage-cert and manage-key, the API's own "
				"certificate and key (PEM files)");
	if (config_in_token(c->manage_key))
		return bad(arg, "manage-key must be a PEM file: keys in a token are for sec alone");
	if (c->server_key && strcmp(c->manage_key, c->server_key) == 0)
		return bad(arg, "manage-key must not be server-key: the VPN's private key never "
				"leaves sec; give the API a key of its own");
	return 0;
}

/* Certificate authentication needs the CA that signs the client certificates. */
static int check_auth(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;

	if (((c->auth_required | c->auth_alternatives) & CONFIG_AUTH_CERT) && !c->ca_cert)
		return bad(arg, "certificate authentication needs ca-cert, the CA that signs the "
				"client certificates");
	return ldap_in_use(c) ? check_ldap(arg) : 0;
}

static int parse_ldap_uri(struct config_arg *arg)
{
	const char *why;

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u bytes)", arg->key->max);
	why = config_ldap_uri_check(arg->value);
	if (why)
		return bad(arg, "'%.64s': %s", arg->value, why);
	return set_string(arg, arg->value);
}

/* The ldap-* keys do nothing without auth = ldap: say so once, at ldap-uri. */
static int check_ldap_uri(struct config_arg *arg)
{
	if (!ldap_in_use(arg->cfg))
		arg->warning = "key 'ldap-uri': not used, as auth and enable-auth name no ldap "
			       "method";
	return 0;
}

/* ldap-user-filter takes the user name (%s); ldap-group-filter the user's DN (%d) and
 * name. */
static int parse_ldap_filter(struct config_arg *arg)
{
	bool group = strcmp(arg->key->name, "ldap-group-filter") == 0;
	const char *why;

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u bytes)", arg->key->max);
	why = config_ldap_filter_check(arg->value, group ? "ds" : "s");
	if (why)
		return bad(arg, "'%.64s': %s (%s)", arg->value, why,
			   group ? "%d is the user's DN, %s the user name, %% a literal %"
				 : "%s is the user name, %% a literal %");
	return set_string(arg, arg->value);
}

static int parse_ldap_attribute(struct config_arg *arg)
{
	const char *why;

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u bytes)", arg->key->max);
	why = config_ldap_attribute_check(arg->value);
	if (why)
		return bad(arg, "'%.64s': %s", arg->value, why);
	return set_string(arg, arg->value);
}

/* Passwords in clear text: allowed (a test directory, a link that is already
 * encrypted), never silently. */
static int check_ldap_starttls(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;

	if (!c->ldap_starttls && ldap_in_use(c) && c->ldap_uri && strstr(c->ldap_uri, "ldap://"))
		arg->warning = "key 'ldap-starttls': false: passwords go to the ldap:// servers of "
			       "ldap-uri in clear text";
	return 0;
}

/* cert-pin: sha256: and the 64 hex digits of a certificate's SHA-256 (DER), stored in
 * lower case. */
static int parse_cert_pin(struct config_arg *arg)
{
	const char *v = arg->value;
	char canon[7 + 64 + 1] = "sha256:";

	if (strncasecmp(v, "sha256:", 7) != 0 || strlen(v) != 7 + 64)
		return bad(arg, "'%.80s' is not sha256: and 64 hex digits", v);
	for (size_t i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)v[7 + i]))
			return bad(arg, "'%.80s' is not sha256: and 64 hex digits", v);
		canon[7 + i] = (char)tolower((unsigned char)v[7 + i]);
	}
	return list_add(arg, canon);
}

/* cert-user-oid and cert-group-oid: a dotted OID of the subject's DN (2.5.4.3 is the
 * CN), or SAN(rfc822name), SAN(dnsname) or SAN(uri) for a subject alternative name. */
static int parse_cert_oid(struct config_arg *arg)
{
	const char *v = arg->value;
	bool dot = true;

	if (strcmp(v, "SAN(rfc822name)") == 0 || strcmp(v, "SAN(dnsname)") == 0 ||
	    strcmp(v, "SAN(uri)") == 0)
		return set_string(arg, v);
	for (const char *p = v; *p; p++) {
		if (*p == '.' && !dot) {
			dot = true;
		} else if (*p >= '0' && *p <= '9') {
			dot = false;
		} else {
			dot = true;
			break;
		}
	}
	if (dot || strlen(v) > 128 || !strchr(v, '.'))
		return bad(arg,
			   "'%.64s' is not an OID (e.g. 2.5.4.3 for the CN, 0.9.2342.19200300.100.1.1 "
			   "for the UID) nor SAN(rfc822name), SAN(dnsname) or SAN(uri)",
			   v);
	return set_string(arg, v);
}

static int parse_tls_priorities(struct config_arg *arg)
{
	gnutls_priority_t prio;
	const char *pos = NULL;
	int ret;

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u bytes)", arg->key->max);
	ret = gnutls_priority_init(&prio, arg->value, &pos);
	if (ret < 0) {
		if (pos && pos >= arg->value && pos < arg->value + strlen(arg->value))
			return bad(arg, "GnuTLS rejects it at offset %td ('%.32s'): %s",
				   pos - arg->value, pos, gnutls_strerror(ret));
		return bad(arg, "GnuTLS rejects it: %s", gnutls_strerror(ret));
	}
	gnutls_priority_deinit(prio);
	return set_string(arg, arg->value);
}

/* camouflage_secret is compared with the query of the request line byte for byte, as
 * the client sends it: only what a URL query carries unescaped (RFC 3986, without '%',
 * so that no client's percent-encoding can make two spellings of one secret). */
static int parse_camo_secret(struct config_arg *arg)
{
	static const char punct[] = "-._~!$&'()*+,;=:@/?";

	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u characters)", arg->key->max);
	for (const char *p = arg->value; *p; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(punct, c))
			continue;
		return bad(arg,
			   "'%c' (0x%02x) cannot stand unescaped in a URL query; use letters, digits "
			   "and -._~!$&'()*+,;=:@/?",
			   (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f ? c : '?',
			   (unsigned char)c);
	}
	return set_string(arg, arg->value);
}

/* camouflage_realm goes into WWW-Authenticate: Basic realm="..." as it is: printable
 * ASCII without the quote and the backslash, which would need escaping there. */
static int parse_camo_realm(struct config_arg *arg)
{
	if (strlen(arg->value) > arg->key->max)
		return bad(arg, "too long (at most %u characters)", arg->key->max);
	for (const char *p = arg->value; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
			return bad(arg, "'%.64s': a realm is printable ASCII without '\"' and '\\'",
				   arg->value);
	return set_string(arg, arg->value);
}

/* included-http-headers: one "Name: value" line of every HTTP response the worker
 * sends before the tunnel. The worker writes it as it is, so what could end the line or
 * the header block (CR, LF, any control byte) is refused here, as are the headers the
 * worker writes itself: a second Content-Length or Connection would change how the
 * client reads the response, a Set-Cookie or X-CSTP-/X-DTLS- header what it logs in
 * with. The sum is bounded so that the worker's start-up message stays small. */
#define HTTP_HEADER_MAX        1024
#define HTTP_HEADERS_TOTAL_MAX 8192
static int parse_http_header(struct config_arg *arg)
{
	static const char *const own[] = {"Content-Length", "Content-Type", "Connection",
					  "Transfer-Encoding", "Set-Cookie", "X-Transcend-Version"};
	const char *v = arg->value, *colon = v + strspn(v, "abcdefghijklmnopqrstuvwxyz"
							  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
							  "0123456789!#$%&'*+-.^_`|~");
	char **items = *(char ***)field(arg->cfg, arg->key);
	size_t n = *(size_t *)((char *)arg->cfg + arg->key->count_offset);
	size_t total = strlen(v), name = (size_t)(colon - v);

	if (name == 0 || *colon != ':')
		return bad(arg, "'%.64s' is not a header line (expected Name: value, the name a "
				"token of letters, digits and !#$%%&'*+-.^_`|~)", v);
	for (const char *p = colon; *p; p++)
		if ((unsigned char)*p < 0x20 ? *p != '\t' : *p == 0x7f)
			return bad(arg, "the value of header '%.*s' holds a control character",
				   (int)(name > 64 ? 64 : name), v);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strlen(own[i]) == name && strncasecmp(v, own[i], name) == 0)
			return bad(arg, "header '%s' is the worker's own, not to be configured",
				   own[i]);
	if (strncasecmp(v, "X-CSTP-", 7) == 0 || strncasecmp(v, "X-DTLS-", 7) == 0)
		return bad(arg, "header '%.*s': the X-CSTP- and X-DTLS- headers are the tunnel's",
			   (int)(name > 64 ? 64 : name), v);
	if (total > HTTP_HEADER_MAX)
		return bad(arg, "header '%.*s' is too long (at most %d characters)",
			   (int)(name > 64 ? 64 : name), v, HTTP_HEADER_MAX);
	for (size_t i = 0; i < n; i++)
		total += strlen(items[i]);
	if (total > HTTP_HEADERS_TOTAL_MAX)
		return bad(arg, "the header lines are too long together (at most %d characters)",
			   HTTP_HEADERS_TOTAL_MAX);
	return list_add(arg, v);
}

/* Camouflage without its secret would let nobody in. */
static int check_camouflage(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;

	if (!c->camouflage)
		return 0;
	if (!c->camouflage_secret)
		return bad(arg, "camouflage = true needs camouflage_secret, the URL query that lets "
				"clients in (https://server/?SECRET)");
	if (strlen(c->camouflage_secret) < CAMO_SECRET_MIN)
		arg->warning = "key 'camouflage_secret': shorter than 16 characters, so a scanner "
			       "may guess it; use 16 or more random characters";
	return 0;
}

/* As ocserv: a backend without a group list leaves select-group's choices. */
static int check_auto_select_group(struct config_arg *arg)
{
	const struct sluice_config *c = arg->cfg;
	bool listed = ((c->auth_required | c->auth_alternatives) & CONFIG_AUTH_PASSWORD) &&
		      (c->password_backend == CONFIG_PW_PLAIN || c->password_backend == CONFIG_PW_PAM);

	if (!c->auto_select_group)
		return 0;
	if (!listed)
		arg->warning = "key 'auto-select-group': only auth = plain and pam have groups to "
			       "list (as in ocserv); the login form offers select-group's";
	else if (c->n_select_groups)
		arg->warning = "key 'auto-select-group': the login form offers the groups of auth, "
			       "not select-group's (as in ocserv)";
	return 0;
}

static int parse_ip_text(const char *s, int *family, unsigned char addr[16])
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int config_host_port(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	unsigned char addr[16];
	size_t hlen;
	unsigned long port;
	char *end;
	int family;
	bool bracketed = text[0] == '[';

	if (!colon || colon == text || !colon[1])
		return -EINVAL;
	hlen = (size_t)(colon - text);
	/* IPv6 literals are bracketed, so that the last colon is the port's. */
	if (bracketed) {
		if (hlen < 3 || text[hlen - 1] != ']')
			return -EINVAL;
		text++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || port < 1 || port > 65535 || colon[1] == '-' || colon[1] == '+' ||
	    parse_ip_text(host, &family, addr) < 0 || (family == AF_INET6) != bracketed)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, addr, 4);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, addr, 16);
		*len = sizeof(*s6);
	}
	return 0;
}

static int parse_host_port(struct config_arg *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (config_host_port(arg->value, &ss, &len) < 0)
		return bad(arg, "'%.64s' is not ADDRESS:PORT (e.g. 127.0.0.1:9199 or [::1]:9199)",
			   arg->value);
	return set_string(arg, arg->value);
}

/* snmp-agentx: where snmpd's AgentX master listens, in net-snmp's transport syntax but
 * only the two forms a master uses: a Unix socket (an absolute path, or unix:PATH) or
 * tcp:ADDRESS:PORT. Checked here so that a typo fails sluiced -t, not the subagent. */
static int parse_agentx(struct config_arg *arg)
{
	const char *v = arg->value;
	struct sockaddr_storage ss;
	socklen_t len;

	if (strncmp(v, "unix:", 5) == 0)
		v += 5;
	if (v[0] == '/' && strlen(v) < sizeof(((struct sockaddr_un *)0)->sun_path))
		return set_string(arg, arg->value);
	if (strncmp(v, "tcp:", 4) == 0 && config_host_port(v + 4, &ss, &len) == 0)
		return set_string(arg, arg->value);
	return bad(arg, "'%.64s' is not an AgentX socket (an absolute path, unix:PATH or "
		   "tcp:ADDRESS:PORT)", arg->value);
}

static int parse_ip_literal(struct config_arg *arg)
{
	unsigned char addr[16];
	char text[INET6_ADDRSTRLEN];
	int family;

	if (parse_ip_text(arg->value, &family, addr) < 0 ||
	    !inet_ntop(family, addr, text, sizeof(text)))
		return bad(arg, "'%.64s' is not an IPv4 or IPv6 address", arg->value);
	if (arg->key->type->list)
		return list_add(arg, text);
	return set_string(arg, text);
}

static int parse_ipv4_literal(struct config_arg *arg)
{
	struct in_addr a;
	char text[INET_ADDRSTRLEN];

	if (inet_pton(AF_INET, arg->value, &a) != 1 || !inet_ntop(AF_INET, &a, text, sizeof(text)))
		return bad(arg, "'%.64s' is not an IPv4 address", arg->value);
	return set_string(arg, text);
}

static unsigned mask_prefix(uint32_t mask_host)
{
	return (unsigned)__builtin_popcount(mask_host);
}

static bool mask_contiguous(uint32_t mask_host)
{
	uint32_t inv = ~mask_host;

	return (inv & (inv + 1)) == 0;
}

static uint32_t prefix_mask(unsigned prefix)
{
	return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

/* Clears host bits in addr (len bytes); returns true if any were set. */
static bool clear_host_bits(unsigned char *addr, size_t len, unsigned prefix)
{
	bool set = false;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
		unsigned char keep = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));

		if (addr[i] & ~keep)
			set = true;
		addr[i] &= keep;
	}
	return set;
}

/* "a.b.c.d" or "a.b.c.d/len"; the prefix may also come from ipv4-netmask, so
 * the two are reconciled in check_ipv4_network(). */
static int parse_ipv4_network(struct config_arg *arg)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(arg->value, '/');
	size_t alen = slash ? (size_t)(slash - arg->value) : strlen(arg->value);
	unsigned prefix = 0;
	int ret;

	if (alen >= sizeof(addr))
		return bad(arg, "'%.64s' is not an IPv4 network (expected a.b.c.d/len)",
			   arg->value);
	memcpy(addr, arg->value, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &arg->cfg->ipv4_network) != 1)
		return bad(arg, "'%.64s' is not an IPv4 network (expected a.b.c.d/len)",
			   arg->value);
	if (slash) {
		ret = parse_number(arg, slash + 1, 8, 30, &prefix);
		if (ret < 0)
			return bad(arg, "bad prefix length '%.16s' (expected 8 to 30)", slash + 1);
	}
	arg->cfg->ipv4_prefix = prefix;
	return 0;
}

static int parse_ipv4_netmask(struct config_arg *arg)
{
	struct in_addr mask;
	unsigned prefix;

	if (strchr(arg->value, '.')) {
		if (inet_pton(AF_INET, arg->value, &mask) != 1 ||
		    !mask_contiguous(ntohl(mask.s_addr)))
			return bad(arg,
				   "'%.64s' is not a netmask (expected e.g. 255.255.255.0 or 24)",
				   arg->value);
		prefix = mask_prefix(ntohl(mask.s_addr));
		if (prefix < 8 || prefix > 30)
			return bad(arg, "netmask %.64s is out of range (expected /8 to /30)",
				   arg->value);
	} else {
		if (parse_number(arg, arg->value, 8, 30, &prefix) < 0)
			return bad(arg,
				   "'%.64s' is not a netmask (expected e.g. 255.255.255.0 or 24)",
				   arg->value);
		mask.s_addr = htonl(prefix_mask(prefix));
	}
	arg->cfg->ipv4_netmask = mask;
	return 0;
}

static int check_ipv4_network(struct config_arg *arg)
{
	struct sluice_config *cfg = arg->cfg;
	unsigned from_mask =
	    cfg->ipv4_netmask.s_addr ? mask_prefix(ntohl(cfg->ipv4_netmask.s_addr)) : 0;
	unsigned char net[4];
	char text[INET_ADDRSTRLEN];

	if (!cfg->ipv4_prefix && !from_mask)
		return bad(arg, "no prefix length (write a.b.c.d/len or set ipv4-netmask)");
	if (cfg->ipv4_prefix && from_mask && cfg->ipv4_prefix != from_mask)
		return bad(arg, "prefix length /%u does not match ipv4-netmask (/%u)",
			   cfg->ipv4_prefix, from_mask);
	if (!cfg->ipv4_prefix)
		cfg->ipv4_prefix = from_mask;
	cfg->ipv4_netmask.s_addr = htonl(prefix_mask(cfg->ipv4_prefix));
	memcpy(net, &cfg->ipv4_network, 4);
	if (clear_host_bits(net, 4, cfg->ipv4_prefix)) {
		inet_ntop(AF_INET, net, text, sizeof(text));
		return bad(arg, "host bits are set (did you mean %s/%u?)", text, cfg->ipv4_prefix);
	}
	return 0;
}

static int parse_ipv6_literal(struct config_arg *arg)
{
	struct in6_addr a;
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, arg->value, &a) != 1 ||
	    !inet_ntop(AF_INET6, &a, text, sizeof(text)))
		return bad(arg, "'%.64s' is not an IPv6 address", arg->value);
	return set_string(arg, text);
}

/* "addr/len" or "addr" with ipv6-prefix; reconciled in check_ipv6_network(). */
static int parse_ipv6_network(struct config_arg *arg)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(arg->value, '/');
	size_t alen = slash ? (size_t)(slash - arg->value) : strlen(arg->value);
	unsigned prefix = 0;

	if (alen >= sizeof(addr))
		return bad(arg, "'%.64s' is not an IPv6 network (expected e.g. fd00:1::/64)",
			   arg->value);
	memcpy(addr, arg->value, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, &arg->cfg->ipv6_network) != 1)
		return bad(arg, "'%.64s' is not an IPv6 network (expected e.g. fd00:1::/64)",
			   arg->value);
	if (slash && parse_number(arg, slash + 1, IPV6_NET_MIN, IPV6_NET_MAX, &prefix) < 0)
		return bad(arg, "bad prefix length '%.16s' (expected %u to %u)", slash + 1,
			   IPV6_NET_MIN, IPV6_NET_MAX);
	arg->cfg->ipv6_prefix = prefix;
	return 0;
}

static int check_ipv6_network(struct config_arg *arg)
{
	struct sluice_config *cfg = arg->cfg;
	unsigned char net[16];
	char text[INET6_ADDRSTRLEN];

	if (!cfg->ipv6_prefix && !cfg->ipv6_prefix_key)
		return bad(arg, "no prefix length (write e.g. fd00:1::/64, or set ipv6-prefix)");
	if (cfg->ipv6_prefix && cfg->ipv6_prefix_key && cfg->ipv6_prefix != cfg->ipv6_prefix_key)
		return bad(arg, "prefix length /%u does not match ipv6-prefix (%u)",
			   cfg->ipv6_prefix, cfg->ipv6_prefix_key);
	if (!cfg->ipv6_prefix)
		cfg->ipv6_prefix = cfg->ipv6_prefix_key;
	memcpy(net, &cfg->ipv6_network, 16);
	if (clear_host_bits(net, 16, cfg->ipv6_prefix)) {
		inet_ntop(AF_INET6, net, text, sizeof(text));
		return bad(arg, "host bits are set (did you mean %s/%u?)", text, cfg->ipv6_prefix);
	}
	/* A per-user or per-group file may set the pool alone: the clients' prefix length is
	 * then the global one, checked when the session's configuration is derived. */
	if (cfg->ipv6_subnet_prefix && cfg->ipv6_subnet_prefix < cfg->ipv6_prefix + 2)
		return bad(arg,
			   "/%u has no room for clients' /%u prefixes (ipv6-subnet-prefix must be "
			   "at least 2 longer than the network's)",
			   cfg->ipv6_prefix, cfg->ipv6_subnet_prefix);
	return 0;
}

/* "default", "a.b.c.d[/len]", "a.b.c.d/m.m.m.m" or "v6addr/len"; stored as "addr/len". */
static int parse_route(struct config_arg *arg)
{
	const char *v = arg->value, *slash = strchr(v, '/');
	size_t alen = slash ? (size_t)(slash - v) : strlen(v);
	char addr[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 4];
	unsigned char bin[16];
	struct in_addr mask;
	int family = memchr(v, ':', alen) ? AF_INET6 : AF_INET;
	unsigned maxlen = family == AF_INET ? 32 : 128, prefix = maxlen;

	if (strcmp(v, "default") == 0)
		return list_add(arg, v);
	if (alen >= sizeof(addr) || (family == AF_INET6 && !slash))
		return bad(arg,
			   "'%.64s' is not a route (expected default, a.b.c.d/len or "
			   "IPv6-address/len)",
			   v);
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	if (inet_pton(family, addr, bin) != 1)
		return bad(arg,
			   "'%.64s' is not a route (expected default, a.b.c.d/len or "
			   "IPv6-address/len)",
			   v);
	if (slash && family == AF_INET && strchr(slash + 1, '.')) {
		if (inet_pton(AF_INET, slash + 1, &mask) != 1 ||
		    !mask_contiguous(ntohl(mask.s_addr)))
			return bad(arg, "'%.64s' has a bad netmask", v);
		prefix = mask_prefix(ntohl(mask.s_addr));
	} else if (slash && parse_number(arg, slash + 1, 0, maxlen, &prefix) < 0) {
		return bad(arg, "'%.64s' has a bad prefix length (expected 0 to %u)", v, maxlen);
	}
	if (clear_host_bits(bin, family == AF_INET ? 4 : 16, prefix)) {
		inet_ntop(family, bin, addr, sizeof(addr));
		return bad(arg, "host bits are set in '%.64s' (did you mean %s/%u?)", v, addr,
			   prefix);
	}
	inet_ntop(family, bin, addr, sizeof(addr));
	snprintf(text, sizeof(text), "%s/%u", addr, prefix);
	return list_add(arg, text);
}

/* ocserv's 0..9 scale: 0 basic, 1 info, 2 and above debug of increasing detail. */
static int parse_log_level(struct config_arg *arg)
{
	unsigned v;
	int ret = parse_number(arg, arg->value, 0, 9, &v);

	if (ret < 0)
		return ret;
	arg->cfg->log_level = v == 0 ? LOG_NOTICE : v == 1 ? LOG_INFO : LOG_DEBUG;
	return 0;
}

void config_print_value(FILE *out, const char *name, const char *value)
{
	size_t len = strlen(value);
	bool quote = len == 0 || value[0] == '"' || isspace((unsigned char)value[0]) ||
		     isspace((unsigned char)value[len - 1]);

	fprintf(out, quote ? "%s = \"%s\"\n" : "%s = %s\n", name, value);
}

static void dump_string(const struct sluice_config *cfg, const struct config_key *key, FILE *out)
{
	const char *v = *(char *const *)cfield(cfg, key);

	if (v)
		config_print_value(out, key->name, v);
}

static void dump_list(const struct sluice_config *cfg, const struct config_key *key, FILE *out)
{
	char *const *items = *(char **const *)cfield(cfg, key);
	size_t n = *(const size_t *)((const char *)cfg + key->count_offset), i;

	for (i = 0; i < n; i++)
		config_print_value(out, key->name, items[i]);
}

static void dump_uint(const struct sluice_config *cfg, const struct config_key *key, FILE *out)
{
	fprintf(out, "%s = %u\n", key->name, *(const unsigned *)cfield(cfg, key));
}

static void dump_bytes(const struct sluice_config *cfg, const struct config_key *key, FILE *out)
{
	fprintf(out, "%s = %llu\n", key->name,
		(unsigned long long)*(const uint64_t *)cfield(cfg, key));
}

static void dump_same_clients_policy(const struct sluice_config *cfg,
				     const struct config_key *key, FILE *out)
{
	fprintf(out, "%s = %s\n", key->name,
		same_clients_policy_name[cfg->max_same_clients_policy]);
}

static void dump_bool(const struct sluice_config *cfg, const struct config_key *key, FILE *out)
{
	fprintf(out, "%s = %s\n", key->name, *(const bool *)cfield(cfg, key) ? "true" : "false");
}

static void dump_ipv4_network(const struct sluice_config *cfg, const struct config_key *key,
			      FILE *out)
{
	char text[INET_ADDRSTRLEN];

	if (cfg->ipv4_prefix && inet_ntop(AF_INET, &cfg->ipv4_network, text, sizeof(text)))
		fprintf(out, "%s = %s/%u\n", key->name, text, cfg->ipv4_prefix);
}

static void dump_ipv4_netmask(const struct sluice_config *cfg, const struct config_key *key,
			      FILE *out)
{
	char text[INET_ADDRSTRLEN];

	if (cfg->ipv4_prefix && inet_ntop(AF_INET, &cfg->ipv4_netmask, text, sizeof(text)))
		fprintf(out, "%s = %s\n", key->name, text);
}

static void dump_ipv6_network(const struct sluice_config *cfg, const struct config_key *key,
			      FILE *out)
{
	char text[INET6_ADDRSTRLEN];

	if (cfg->ipv6_prefix && inet_ntop(AF_INET6, &cfg->ipv6_network, text, sizeof(text)))
		fprintf(out, "%s = %s/%u\n", key->name, text, cfg->ipv6_prefix);
}

/* A number that is 0 when unset (ipv6-prefix). */
static void dump_uint_set(const struct sluice_config *cfg, const struct config_key *key,
			  FILE *out)
{
	if (*(const unsigned *)cfield(cfg, key))
		dump_uint(cfg, key, out);
}

static void dump_log_level(const struct sluice_config *cfg, const struct config_key *key, FILE *out)
{
	fprintf(out, "%s = %d\n", key->name,
		cfg->log_level <= LOG_NOTICE ? 0
		: cfg->log_level == LOG_INFO ? 1
					     : 2);
}

static const struct config_type t_string = {"text", parse_string, dump_string, false};
static const struct config_type t_path = {"file name", parse_string, dump_string, false};
static const struct config_type t_account = {"name", parse_account, dump_string, false};
static const struct config_type t_device = {"device prefix", parse_device, dump_string, false};
static const struct config_type t_nft_table = {"nftables table name", parse_nft_table, dump_string,
					       false};
static const struct config_type t_domains = {"domain names", parse_domains, dump_string, false};
static const struct config_type t_auth = {"auth method", parse_auth, dump_list, true};
static const struct config_type t_acct = {"accounting method", parse_acct, dump_string, false};
static const struct config_type t_cert_pin = {"sha256:HEX", parse_cert_pin, dump_list, true};
static const struct config_type t_cert_oid = {"OID or SAN(type)", parse_cert_oid, dump_string,
					      false};
static const struct config_type t_tls = {"GnuTLS priorities", parse_tls_priorities, dump_string,
					 false};
static const struct config_type t_host_port = {"address:port", parse_host_port, dump_string,
						  false};
static const struct config_type t_agentx = {"AgentX socket", parse_agentx, dump_string,
					       false};
static const struct config_type t_ip = {"IP address", parse_ip_literal, dump_string, false};
static const struct config_type t_ipv4 = {"IPv4 address", parse_ipv4_literal, dump_string, false};
static const struct config_type t_uint = {"number", parse_uint, dump_uint, false};
static const struct config_type t_mtu = {"number", parse_mtu, dump_uint, false};
static const struct config_type t_bytes = {"number of bytes", parse_bytes, dump_bytes, false};
static const struct config_type t_same_policy = {"refuse or replace-oldest",
						 parse_same_clients_policy,
						 dump_same_clients_policy, false};
static const struct config_type t_rekey = {"ssl or new-tunnel", parse_rekey_method,
					   dump_rekey_method, false};
static const struct config_type t_comp_prio = {"METHOD:PRIORITY", parse_comp_priority, dump_list,
					       true};
static const struct config_type t_ports = {"ports", parse_ports, dump_string, false};
static const struct config_type t_bool = {"boolean", parse_bool, dump_bool, false};
static const struct config_type t_sandbox = {"boolean", parse_sandbox, dump_bool, false};
static const struct config_type t_mtu_discovery = {"boolean", parse_mtu_discovery, dump_bool,
						   false};
static const struct config_type t_ping_leases = {"boolean", parse_ping_leases, dump_bool, false};
static const struct config_type t_ipv4_net = {"IPv4 network", parse_ipv4_network, dump_ipv4_network,
					      false};
static const struct config_type t_ipv4_mask = {"IPv4 netmask", parse_ipv4_netmask,
					       dump_ipv4_netmask, false};
static const struct config_type t_ipv6 = {"IPv6 address", parse_ipv6_literal, dump_string, false};
static const struct config_type t_ipv6_net = {"IPv6 network", parse_ipv6_network, dump_ipv6_network,
					      false};
static const struct config_type t_ipv6_len = {"number", parse_uint, dump_uint_set, false};
static const struct config_type t_log_level = {"number", parse_log_level, dump_log_level, false};
static const struct config_type t_camo_secret = {"URL query", parse_camo_secret, dump_string,
						 false};
static const struct config_type t_http_header_list = {"Name: value", parse_http_header, dump_list,
							true};
static const struct config_type t_camo_realm = {"text", parse_camo_realm, dump_string, false};
static const struct config_type t_ldap_uri = {"LDAP URIs", parse_ldap_uri, dump_string, false};
static const struct config_type t_ldap_filter = {"LDAP filter", parse_ldap_filter, dump_string,
						 false};
static const struct config_type t_ldap_attribute = {"attribute name", parse_ldap_attribute,
						    dump_string, false};
/* A network behind one client (site-to-site), of either family, and not everything
 * (the client could then send from any address). */
static int parse_iroute(struct config_arg *arg)
{
	const char *slash = strchr(arg->value, '/');

	if (strcmp(arg->value, "default") == 0)
		return bad(arg, "'default' is not a network (expected a.b.c.d/len or fd00:1::/64)");
	if (strchr(arg->value, ':') && !slash)
		return bad(arg, "'%.64s' has no prefix length (expected e.g. fd00:1::/64)",
			   arg->value);
	if (slash && (strcmp(slash, "/0") == 0 || strcmp(slash, "/0.0.0.0") == 0))
		return bad(arg, "'%.64s' covers every address; name the client's networks",
			   arg->value);
	return parse_route(arg);
}

static const struct config_type t_ip_list = {"IP address", parse_ip_literal, dump_list, true};
static const struct config_type t_route_list = {"route", parse_route, dump_list, true};
static const struct config_type t_domain_list = {"domain name", parse_domain, dump_list, true};
static const struct config_type t_iroute_list = {"route", parse_iroute, dump_list, true};
static const struct config_type t_select_group = {"group[Label]", parse_select_group, dump_list,
						  true};

#define OFF(f) offsetof(struct sluice_config, f)
#define R      CONFIG_RELOAD
#define U      CONFIG_PER_USER
#define REQ    CONFIG_REQUIRED
#define SL     CONFIG_SLUICE_ONLY
#define UO     CONFIG_USER_ONLY

/* Order is the order of --dump-config and --help-config. */
const struct config_key config_keys[] = {
    {"auth", &t_auth, OFF(auth), OFF(n_auth), 0, 2, NULL, REQ,
     "authentication, repeatable: plain[passwd=FILE] (a password file in ocpasswd format; "
     "with ,otp=FILE also a one-time password from an oath-toolkit users file), or "
     "pam[gid-min=N,service=NAME] (the PAM service, default sluice; groups from NSS, those "
     "below gid-min left out), or radius[config=FILE,groupconfig=BOOL,nas-identifier=NAME] "
     "(radcli's configuration; groupconfig: Class or Filter-Id names the group), or ldap "
     "(a directory, set up by the ldap-* keys), and/or certificate (a client certificate "
     "signed by ca-cert); every method named must pass",
     check_auth},
    {"enable-auth", &t_auth, OFF(enable_auth), OFF(n_enable_auth), 0, 2, NULL, 0,
     "an alternative to auth (repeatable, the same methods): one of them passing alone "
     "logs a user in"},
    {"acct", &t_acct, OFF(acct), 0, 0, 0, NULL, 0,
     "accounting: radius[config=FILE,nas-identifier=NAME] sends RADIUS Accounting-Requests "
     "(Start when a tunnel is up, Interim-Update every stats-report-time, Stop with its "
     "bytes, packets, duration and cause) through radcli; pam[service=NAME] opens a PAM "
     "session for every tunnel and closes it when the tunnel ends; unset: none"},
    {"radius-dae-listen", &t_host_port, OFF(radius_dae_listen), 0, 0, 64, NULL, SL,
     "listen for RADIUS Disconnect-Request and CoA-Request (RFC 5176) on ADDRESS:PORT (UDP; "
     "3799 is the usual port); unset: off. Needs radius-dae-secret-file and "
     "radius-dae-client",
     check_dae},
    {"radius-dae-secret-file", &t_path, OFF(radius_dae_secret_file), 0, 0, PATH_LEN_MAX, NULL,
     SL, "file whose first line is the shared secret of radius-dae-listen (root's, mode 0600)"},
    {"radius-dae-client", &t_ip_list, OFF(radius_dae_clients), OFF(n_radius_dae_clients), 0, 16,
     NULL, SL,
     "address a Disconnect-Request or CoA-Request may come from (repeatable); others are "
     "dropped"},
    {"auth-helpers", &t_uint, OFF(auth_helpers), 0, 1, 256, "16", SL,
     "auth helper processes (PAM, RADIUS and LDAP logins; plain auth's password hashes) at "
     "most; a login that finds them all busy waits for one, at most auth-helper-timeout"},
    {"auth-helper-timeout", &t_uint, OFF(auth_helper_timeout), 0, 1, 25, "15", SL,
     "seconds one step of a PAM, RADIUS or LDAP login, or one password hash of plain auth, "
     "may take (a module or server that does not answer, or a hash that takes longer, is cut "
     "off and the login fails); the user's own answers have auth-timeout"},
    {"ldap-uri", &t_ldap_uri, OFF(ldap_uri), 0, 0, 1024, NULL, SL,
     "auth = ldap: the directory's servers, ldap://HOST[:PORT] (StartTLS, see ldap-starttls) "
     "or ldaps://HOST[:PORT], several separated by spaces, tried in turn",
     check_ldap_uri},
    {"ldap-base", &t_string, OFF(ldap_base), 0, 0, 1024, NULL, SL,
     "auth = ldap: the DN under which users are searched (the whole subtree)"},
    {"ldap-bind-dn", &t_string, OFF(ldap_bind_dn), 0, 0, 1024, NULL, SL,
     "auth = ldap: the service account that searches for users; unset: an anonymous search"},
    {"ldap-bind-password-file", &t_path, OFF(ldap_bind_password_file), 0, 0, PATH_LEN_MAX,
     NULL, SL,
     "file whose first line is ldap-bind-dn's password (read as root when an auth helper "
     "starts; make it root's, mode 0600)"},
    {"ldap-user-filter", &t_ldap_filter, OFF(ldap_user_filter), 0, 0, 1024, "(uid=%s)", SL,
     "the search filter that finds a user's entry; %s is the user name, escaped (RFC 4515), "
     "%% a literal %; it must find exactly one entry (Active Directory: "
     "(sAMAccountName=%s))"},
    {"ldap-group-attribute", &t_ldap_attribute, OFF(ldap_group_attribute), 0, 0, 64, NULL, SL,
     "an attribute of the user's entry that names the user's groups (memberOf, "
     "departmentNumber); a value that is a DN names the group by its first RDN's value "
     "(cn=staff,ou=groups,... is staff); unset: none"},
    {"ldap-group-filter", &t_ldap_filter, OFF(ldap_group_filter), 0, 0, 1024, NULL, SL,
     "a search for the user's groups under ldap-group-base: %d is the user's DN, %s the user "
     "name (both escaped), e.g. (member=%d); unset: no search"},
    {"ldap-group-base", &t_string, OFF(ldap_group_base), 0, 0, 1024, NULL, SL,
     "the DN under which ldap-group-filter searches; unset: ldap-base"},
    {"ldap-group-name-attribute", &t_ldap_attribute, OFF(ldap_group_name_attribute), 0, 0, 64,
     "cn", SL, "the attribute of a group found by ldap-group-filter that is its name"},
    {"ldap-required-group", &t_string, OFF(ldap_required_group), 0, 0, 255, NULL, SL,
     "a group (from ldap-group-attribute or ldap-group-filter) a user must be in to log in; "
     "unset: any user that ldap-user-filter finds"},
    {"ldap-starttls", &t_bool, OFF(ldap_starttls), 0, 0, 0, "true", SL,
     "ldap:// URIs go over StartTLS; false sends passwords in clear text to them (warned "
     "about at load)",
     check_ldap_starttls},
    {"ldap-ca-cert", &t_path, OFF(ldap_ca_cert), 0, 0, PATH_LEN_MAX,
     "/etc/ssl/certs/ca-certificates.crt", SL,
     "CAs (PEM) that the LDAP server's certificate must chain to; the certificate must also "
     "name the host of ldap-uri (verification cannot be turned off)"},
    {"ldap-timeout", &t_uint, OFF(ldap_timeout), 0, 1, 24, "5", SL,
     "seconds an LDAP server has to accept a connection, answer an operation or a search; "
     "below auth-helper-timeout, which bounds the whole login"},
    {"cert-user-oid", &t_cert_oid, OFF(cert_user_oid), 0, 0, 0, "2.5.4.3", R,
     "where a client certificate names its user: an OID of its subject (2.5.4.3 the CN, "
     "0.9.2342.19200300.100.1.1 the UID) or SAN(rfc822name), SAN(dnsname), SAN(uri)"},
    {"cert-group-oid", &t_cert_oid, OFF(cert_group_oid), 0, 0, 0, NULL, R,
     "where a client certificate names the user's group (an OID or SAN(type), as "
     "cert-user-oid); unset: the password file's groups, or none"},
    {"crl", &t_path, OFF(crl), 0, 0, PATH_LEN_MAX, NULL, R,
     "revoked client certificates (PEM CRL of ca-cert), read again on SIGHUP; unset: none"},
    {"auth-tries", &t_uint, OFF(auth_tries), 0, 1, 20, "3", R | SL,
     "wrong passwords allowed before the connection is closed"},
    {"listen-host", &t_ip, OFF(listen_host), 0, 0, 0, NULL, 0,
     "IP address to listen on; unset: all addresses"},
    {"tcp-port", &t_uint, OFF(tcp_port), 0, 1, 65535, "443", 0, "TCP port for TLS"},
    {"udp-port", &t_uint, OFF(udp_port), 0, 0, 65535, "0", 0, "UDP port for DTLS, 0 = DTLS off"},
    {"udp-listen-host", &t_ip, OFF(udp_listen_host), 0, 0, 0, NULL, 0,
     "IP address for DTLS; unset: the address each client connected to over TLS"},
    {"listen-proxy-proto", &t_bool, OFF(listen_proxy_proto), 0, 0, 0, "false", 0,
     "every TCP connection starts with a PROXY protocol header (version 1 or 2, as HAProxy's "
     "send-proxy and send-proxy-v2 write it) that names the client; connections without a "
     "valid one within 5 s are closed. Only for a listener that a load balancer alone can "
     "reach"},
    {"rate-limit-ms", &t_uint, OFF(rate_limit_ms), 0, 0, 60000, "0", R,
     "at most one new TCP connection is accepted per this many milliseconds; the others "
     "wait in the kernel's backlog. 0 = no limit"},
    {"dtls-psk", &t_bool, OFF(dtls_psk), 0, 0, 0, "true", R,
     "offer DTLS with a key derived from the TLS session (PSK-NEGOTIATE)"},
    {"dtls-legacy", &t_bool, OFF(dtls_legacy), 0, 0, 0, "true", R,
     "offer Cisco's legacy DTLS (session resumption) to clients without PSK-NEGOTIATE"},
    {"compression", &t_bool, OFF(compression), 0, 0, 0, "false", R,
     "compress packets with LZ4 or LZS when the client offers them (openconnect does), over "
     "TLS and DTLS; off by default: an attacker who can inject traffic into a session and "
     "watch its encrypted sizes may learn secrets from how well they compress (CRIME, VORACLE)"},
    {"no-compress-limit", &t_uint, OFF(no_compress_limit), 0, 0, 65535, "256", R,
     "with compression, packets of at most this many bytes are sent uncompressed, so that "
     "small latency-sensitive packets (VoIP, games) do not wait for the compressor"},
    {"compression-algo-priority", &t_comp_prio, OFF(comp_priority), OFF(n_comp_priority), 0, 2,
     NULL, R,
     "METHOD:PRIORITY (repeatable), as in ocserv: of the methods the client offers, the "
     "one with the highest priority is used; defaults oc-lz4:90 and lzs:80"},
    {"cisco-client-compat", &t_bool, OFF(cisco_client_compat), 0, 0, 0, "false", R,
     "for old Cisco AnyConnect clients and openconnect before 7.08, as in ocserv: a "
     "certificate session's cookie reconnects without the certificate (the cookie alone "
     "proves the session), dtls-legacy is on, and without tls-priorities in the file TLS 1.3 "
     "is off"},
    {"switch-to-tcp-timeout", &t_uint, OFF(switch_to_tcp_timeout), 0, 1, TIMER_MAX, "25", R,
     "seconds without a DTLS packet before traffic moves to the TLS channel"},
    {"run-as-user", &t_account, OFF(run_as_user), 0, 0, 32, "nobody", 0,
     "unprivileged user the workers run as"},
    {"run-as-group", &t_account, OFF(run_as_group), 0, 0, 32, "nogroup", 0,
     "unprivileged group the workers run as"},
    {"socket-file", &t_path, OFF(socket_file), 0, 0, PATH_LEN_MAX, "/run/sluiced/sluiced.sock", 0,
     "accepted for ocserv compatibility; sluice uses anonymous socket pairs and does not use "
     "it"},
    {"occtl-socket-file", &t_path, OFF(occtl_socket_file), 0, 0, PATH_LEN_MAX,
     "/run/sluiced/ctl.sock", 0, "control socket for sluicectl"},
    {"occtl-socket-group", &t_account, OFF(occtl_socket_group), 0, 0, 32, NULL, SL,
     "group whose members may use sluicectl (socket mode 0660); unset: root only (0600)"},
    {"pid-file", &t_path, OFF(pid_file), 0, 0, PATH_LEN_MAX, NULL, 0,
     "file to write sluiced's process id to; unset: none"},
    {"isolate-workers", &t_sandbox, OFF(isolate_workers), 0, 0, 0, "true", 0,
     "accepted for ocserv compatibility; the worker sandbox is always on"},
    {"worker-path", &t_path, OFF(worker_path), 0, 0, PATH_LEN_MAX, NULL, SL,
     "sluice-worker program; unset: beside sluiced, then the libexec directory"},
    {"worker-template", &t_bool, OFF(worker_template), 0, 0, 0, "true", SL,
     "fork workers from a pre-initialised template process: less memory per session, but "
     "all workers share one address-space layout; false: exec every worker"},
    {"worker-template-max-forks", &t_uint, OFF(worker_template_max_forks), 0, 0, 1000000, "1000", R | SL,
     "workers one template forks before a freshly exec'd template (a new address-space "
     "layout) takes over, 0 = no limit; a template is also replaced at once when one of its "
     "workers dies on a signal before authentication"},
    {"state-dir", &t_path, OFF(state_dir), 0, 0, PATH_LEN_MAX, "/var/lib/sluice", SL,
     "directory for state such as the generated certificate of the built-in configuration"},
    {"server-cert", &t_path, OFF(server_cert), 0, 0, PATH_LEN_MAX, NULL, REQ | R,
     "server certificate chain (PEM), or a pkcs11: URL of the certificate in a token (sec "
     "reads it with the key's PIN; its issuers are not sent)"},
    {"server-key", &t_path, OFF(server_key), 0, 0, PATH_LEN_MAX, NULL, REQ | R,
     "private key of the server certificate: a PEM file, or a pkcs11: URL of a key in a "
     "token (only sec uses it)"},
    {"ocsp-response", &t_path, OFF(ocsp_response), 0, 0, PATH_LEN_MAX, NULL, R,
     "OCSP response (DER) for server-cert, sent in every TLS handshake (stapling); read "
     "again on SIGHUP, with a warning when it is stale"},
    {"key-pin", &t_string, OFF(key_pin), 0, 0, 256, NULL, R,
     "PIN of the token that holds server-key (pkcs11:); prefer pin-file, which keeps it "
     "out of the configuration"},
    {"pin-file", &t_path, OFF(pin_file), 0, 0, PATH_LEN_MAX, NULL, R,
     "file whose first line is the PIN of the token that holds server-key"},
    {"ca-cert", &t_path, OFF(ca_cert), 0, 0, PATH_LEN_MAX, NULL, R,
     "CA that signs the client certificates of certificate authentication (PEM); unset: "
     "none"},
    {"tls-priorities", &t_tls, OFF(tls_priorities), 0, 0, 1024,
     "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1", R,
     "GnuTLS priority string for TLS and DTLS"},
    {"camouflage", &t_bool, OFF(camouflage), 0, 0, 0, "false", R,
     "hide the VPN: a request whose URL query is not camouflage_secret gets what a web server "
     "with nothing to show answers (401 with camouflage_realm, else 404), malformed ones too; "
     "clients connect to https://server/?SECRET, and reconnect with their session cookie",
     check_camouflage},
    {"camouflage_secret", &t_camo_secret, OFF(camouflage_secret), 0, 0, CAMO_SECRET_MAX, NULL,
     R,
     "the URL query that lets clients in when camouflage is on: letters, digits and "
     "-._~!$&'()*+,;=:@/? (what a query carries unescaped); use 16 or more random "
     "characters"},
    {"camouflage_realm", &t_camo_realm, OFF(camouflage_realm), 0, 0, 128, NULL, R,
     "realm of the decoy's 401 (WWW-Authenticate: Basic realm=\"...\"); unset: the decoy is "
     "a 404"},
    {"server-drain-ms", &t_uint, OFF(server_drain_ms), 0, 0, 3600000, "0", R,
     "on SIGTERM: stop accepting connections, keep the sessions this many milliseconds, then "
     "end them (a load balancer's drain time)"},
    {"metrics-listen", &t_host_port, OFF(metrics_listen), 0, 0, 64, NULL, SL,
     "serve Prometheus metrics over HTTP on ADDRESS:PORT; unset: off"},
    {"manage-listen", &t_host_port, OFF(manage_listen), 0, 0, 64, NULL, SL,
     "serve the management API and web dashboard over HTTPS on ADDRESS:PORT (sluice-manage, "
     "an unprivileged process); unset: off. Needs manage-cert and manage-key; callers are "
     "granted in manage-access",
     check_manage},
    {"manage-cert", &t_path, OFF(manage_cert), 0, 0, PATH_LEN_MAX, NULL, R | SL,
     "the management API's TLS certificate chain (PEM)"},
    {"manage-key", &t_path, OFF(manage_key), 0, 0, PATH_LEN_MAX, NULL, R | SL,
     "the management API's private key (PEM file, not server-key)"},
    {"manage-ca", &t_path, OFF(manage_ca), 0, 0, PATH_LEN_MAX, NULL, R | SL,
     "CA whose client certificates may call the management API (their common names are "
     "granted in manage-access); unset: bearer tokens only"},
    {"manage-access", &t_path, OFF(manage_access), 0, 0, PATH_LEN_MAX,
     "/etc/sluice/manage-access", R | SL,
     "who may call the management API, with the read or admin role: tokens (kept as "
     "SHA-256) and certificate names, written by sluice-access; root's, mode 0600"},
    {"snmp-agentx", &t_agentx, OFF(snmp_agentx), 0, 0, 108, NULL, SL,
     "run sluice-snmp, an unprivileged AgentX subagent (SLUICE-MIB), and connect it to "
     "snmpd's master agent at this socket: a path, unix:PATH or tcp:ADDRESS:PORT; unset: off"},
    {"max-clients", &t_uint, OFF(max_clients), 0, 0, 1000000, "1024", R,
     "authenticated clients at once (setting up or with a tunnel), 0 = unlimited; those "
     "still logging in count against max-preauth-clients. main needs about one file "
     "descriptor per client and warns at start-up when its limit is lower"},
    {"max-same-clients", &t_uint, OFF(max_same_clients), 0, 0, 1000000, "2", R | U,
     "sessions of one user at once, 0 = unlimited"},
    {"max-same-clients-policy", &t_same_policy, OFF(max_same_clients_policy), 0, 0, 0, "refuse",
     R | U | SL,
     "what a login that would exceed max-same-clients does: refuse = it is refused; "
     "replace-oldest = the user's oldest session (the one that logged in first) ends "
     "with reason \"replaced by a newer login\", its cookie is invalidated, and the login "
     "goes on"},
    {"keepalive", &t_uint, OFF(keepalive), 0, 1, TIMER_MAX, "32400", R | U,
     "seconds between keepalive packets"},
    {"dpd", &t_uint, OFF(dpd), 0, 1, TIMER_MAX, "90", R | U,
     "seconds between dead peer detection probes"},
    {"mobile-dpd", &t_uint, OFF(mobile_dpd), 0, 1, TIMER_MAX, "1800", R | U,
     "dead peer detection interval for mobile clients (seconds)"},
    {"try-mtu-discovery", &t_mtu_discovery, OFF(try_mtu_discovery), 0, 0, 0, "false", R,
     "taken for ocserv's files; true has no effect and a warning: the tunnel MTU comes from "
     "the client's path MTU, and packets too large for DTLS go over TLS"},
    {"auth-timeout", &t_uint, OFF(auth_timeout), 0, 1, TIMER_MAX, "240", R,
     "seconds allowed to complete authentication"},
    {"rekey-time", &t_uint, OFF(rekey_time), 0, 0, TIMER_MAX, "172800", R,
     "seconds after which a session's TLS keys are renewed, and again every so often, 0 = "
     "never"},
    {"rekey-method", &t_rekey, OFF(rekey_method), 0, 0, 0, "ssl", R,
     "ssl = under TLS 1.3 a key update, which keeps the tunnel, its address and its DTLS "
     "channel; under TLS 1.2 the client reconnects with its cookie (sluice does not "
     "renegotiate); new-tunnel = the client always reconnects with its cookie"},
    {"tls-handshake-timeout", &t_uint, OFF(tls_handshake_timeout), 0, 1, TIMER_MAX, "10", R | SL,
     "seconds a new connection has for its TLS handshake"},
    {"max-preauth-clients", &t_uint, OFF(max_preauth_clients), 0, 0, 1000000, "256", R | SL,
     "connections at once that have not authenticated yet (apart from max-clients), 0 = "
     "unlimited; when it is reached, the oldest one past tls-handshake-timeout ends to make "
     "room, and without one a new connection is refused"},
    {"max-preauth-per-ip", &t_uint, OFF(max_preauth_per_ip), 0, 0, 1000000, "16", R | SL,
     "connections at once from one address (IPv6: one prefix of ban-ipv6-prefix bits) that "
     "have not authenticated yet, 0 = unlimited; more are refused"},
    {"idle-timeout", &t_uint, OFF(idle_timeout), 0, 0, TIMER_MAX, "0", R | U,
     "seconds without traffic before disconnecting, 0 = off"},
    {"mobile-idle-timeout", &t_uint, OFF(mobile_idle_timeout), 0, 0, TIMER_MAX, "0", R | U,
     "idle-timeout for mobile clients (those that say they run on Android or iOS), as "
     "ocserv has it; 0 = the same as idle-timeout"},
    {"session-timeout", &t_uint, OFF(session_timeout), 0, 0, SESSION_MAX, "0", R | U,
     "seconds from the login after which the session ends and its cookie is invalidated "
     "(a cookie reconnect does not restart the clock), 0 = none"},
    {"cookie-timeout", &t_uint, OFF(cookie_timeout), 0, 1, TIMER_MAX, "300", R,
     "seconds a session cookie stays valid after a disconnect"},
    {"deny-roaming", &t_bool, OFF(deny_roaming), 0, 0, 0, "false", R | U,
     "bind the cookie to the client's IP address"},
    {"stats-report-time", &t_uint, OFF(stats_report_time), 0, 1, TIMER_MAX, "60", R | U,
     "seconds between traffic statistics reports"},
    {"rx-data-per-sec", &t_uint, OFF(rx_data_per_sec), 0, 0, UINT_MAX, "0", R | U,
     "bytes per second a session may send into the VPN (from its client), 0 = unlimited; "
     "the worker stops reading from the client while the session is over it"},
    {"tx-data-per-sec", &t_uint, OFF(tx_data_per_sec), 0, 0, UINT_MAX, "0", R | U,
     "bytes per second a session may receive from the VPN (to its client), 0 = unlimited; "
     "the worker stops reading the session's TUN device while it is over it"},
    {"session-quota-bytes", &t_bytes, OFF(session_quota_bytes), 0, 0, 0, "0", R | U | SL,
     "bytes a session may move, both ways added, counted from the login over all its "
     "tunnels (cookie reconnects included) from its TUN device, 0 = no quota; main ends "
     "the session (reason \"quota exceeded\", the cookie invalidated) within a second of "
     "its going beyond"},
    {"max-ban-score", &t_uint, OFF(max_ban_score), 0, 0, 1000000, "80", R,
     "score at which a client address is banned, 0 = no bans (no address is exempt, not "
     "even loopback or local ones)"},
    {"ban-time", &t_uint, OFF(ban_time), 0, 1, TIMER_MAX, "300", R | SL,
     "seconds a banned address stays banned"},
    {"ban-reset-time", &t_uint, OFF(ban_reset_time), 0, 1, TIMER_MAX, "1200", R,
     "seconds in which an address's score drains by max-ban-score points (gradually, from "
     "its last points; a score below max-ban-score is gone within this time, and any score "
     "is forgotten after this long without new points)"},
    {"ban-points-wrong-password", &t_uint, OFF(ban_points_wrong_password), 0, 0, 1000000, "10", R,
     "points for a failed login"},
    {"ban-points-connection", &t_uint, OFF(ban_points_connection), 0, 0, 1000000, "1", R,
     "points for every connection"},
    {"ban-points-worker-crash", &t_uint, OFF(ban_points_worker_crash), 0, 0, 1000000, "20", R | SL,
     "points for a worker that dies on a signal sluiced did not send (a crash) before its "
     "client authenticated"},
    {"ban-ipv6-prefix", &t_uint, OFF(ban_ipv6_prefix), 0, 32, 128, "64", SL,
     "an IPv6 client's points and ban count for its prefix of this many bits (128: for its "
     "address alone), as a host or site usually holds a whole /64; IPv4 clients score per "
     "address"},
    {"ban-nftables", &t_nft_table, OFF(ban_nftables), 0, 0, 32, NULL, SL,
     "nftables table (family inet) that sluiced makes at start-up and deletes when it "
     "stops, in which the kernel drops new TCP connections and UDP datagrams to sluiced's "
     "ports from banned addresses and IPv6 prefixes (sets ban4 and ban6, each element "
     "timing out with its ban) before main sees them; a letter, then letters, digits, "
     "'_'; read at start-up only; unset: main alone refuses banned addresses, at accept",
     check_ban_nftables},
    {"ping-leases", &t_ping_leases, OFF(ping_leases), 0, 0, 0, "false", R,
     "ocserv's: ping an address before leasing it; sluice takes only false (its pools must "
     "hold no other host's address)"},
    {"device", &t_device, OFF(device), 0, 0, 10, "vpns", R,
     "prefix of the TUN device names (letters, digits, '-', '_'; at most 10)"},
    {"predictable-ips", &t_bool, OFF(predictable_ips), 0, 0, 0, "true", R,
     "give a user the same address again when possible"},
    {"ipv4-network", &t_ipv4_net, OFF(ipv4_network), 0, 0, 0, NULL, U,
     "IPv4 address pool: a.b.c.d/len (8 to 30), or a.b.c.d with ipv4-netmask; unset: no IPv4 "
     "in the tunnel (ipv6-network is then required)",
     check_ipv4_network},
    {"ipv4-netmask", &t_ipv4_mask, OFF(ipv4_netmask), 0, 0, 0, NULL, U,
     "netmask of ipv4-network: 255.255.255.0 or 24"},
    {"ipv6-network", &t_ipv6_net, OFF(ipv6_network), 0, 0, 0, NULL, U,
     "IPv6 pool: fd00:1::/len (16 to 126), or the network with ipv6-prefix; each client gets "
     "a prefix of ipv6-subnet-prefix out of it; unset: no IPv6 in the tunnel",
     check_ipv6_network},
    {"ipv6-prefix", &t_ipv6_len, OFF(ipv6_prefix_key), 0, IPV6_NET_MIN, IPV6_NET_MAX, NULL, U,
     "prefix length of ipv6-network, for a network written without one"},
    {"ipv6-subnet-prefix", &t_uint, OFF(ipv6_subnet_prefix), 0, IPV6_NET_MIN + 2, 128, "128",
     U,
     "length of the IPv6 prefix each client gets (128: one address); the tunnel carries "
     "the whole prefix"},
    {"dns", &t_ip_list, OFF(dns), OFF(n_dns), 0, 16, NULL, R | U,
     "DNS server for clients (repeatable, IPv4 or IPv6)"},
    {"nbns", &t_ip_list, OFF(nbns), OFF(n_nbns), 0, 16, NULL, R | U,
     "NetBIOS name server (WINS) for clients (repeatable, IPv4 or IPv6)"},
    {"persistent-cookies", &t_bool, OFF(persistent_cookies), 0, 0, 0, "false", R,
     "a session's cookie survives the user's own logout (openconnect's SIGINT, a Cisco "
     "client's Disconnect), as in ocserv; not recommended: a logout then ends nothing"},
    {"expose-iroutes", &t_bool, OFF(expose_iroutes), 0, 0, 0, "false", R,
     "a client also gets, as routes, the networks behind the other users' clients "
     "(their iroutes) at the time it connects"},
    {"tunnel-all-dns", &t_bool, OFF(tunnel_all_dns), 0, 0, 0, "false", R | U,
     "tells clients (X-CSTP-Tunnel-All-DNS) to send every DNS query into the tunnel, "
     "split-dns or not"},
    {"split-dns", &t_domain_list, OFF(split_dns), OFF(n_split_dns), 0, 32, NULL, R | U,
     "domain whose names clients resolve with the VPN's DNS servers (repeatable)"},
    {"route", &t_route_list, OFF(routes), OFF(n_routes), 0, 256, NULL, R | U,
     "route through the VPN (repeatable): default, a.b.c.d/len, IPv6-address/len"},
    {"no-route", &t_route_list, OFF(no_routes), OFF(n_no_routes), 0, 256, NULL, R | U,
     "route excluded from the VPN (repeatable)"},
    {"client-bypass-protocol", &t_bool, OFF(client_bypass_protocol), 0, 0, 0, "false", R | U,
     "tells Cisco clients (X-CSTP-Client-Bypass-Protocol) that traffic of an address family "
     "the session has no address of may bypass the tunnel; false: they drop it"},
    {"no-udp", &t_bool, OFF(no_udp), 0, 0, 0, "false", R | U,
     "no DTLS for the sessions it applies to (usually set in a per-user or per-group "
     "file): their data goes over TLS only"},
    {"explicit-ipv4", &t_ipv4, OFF(explicit_ipv4), 0, 0, 0, NULL, R | U | UO,
     "the user's own VPN address, inside the session's ipv4-network; a second session "
     "that would need it while it is in use is refused"},
    {"explicit-ipv6", &t_ipv6, OFF(explicit_ipv6), 0, 0, 0, NULL, R | U | UO,
     "the user's own IPv6 address, inside the session's ipv6-network: the client gets the "
     "ipv6-subnet-prefix around it"},
    {"cert-pin", &t_cert_pin, OFF(cert_pins), OFF(n_cert_pins), 0, 16, NULL, R | U | UO | SL,
     "the user's own client certificate (repeatable): sha256: and the hex SHA-256 of its "
     "DER; with pins, a certificate login of the user passes only with one of them"},
    {"restrict-user-to-ports", &t_ports, OFF(restrict_to_ports), 0, 0, 0, NULL, R | U,
     "ocserv's: \"tcp(443), udp(53), icmp()\" lets clients reach only those protocols and "
     "ports (tcp, udp, sctp take a port; icmp, icmpv6, esp an empty ()), \"!(tcp(25))\" "
     "only keeps them from those; enforced by the kernel on the session's TUN device, and "
     "it implies restrict-user-to-routes, as in ocserv"},
    {"restrict-user-to-routes", &t_bool, OFF(restrict_to_routes), 0, 0, 0, "false", R | U,
     "drop (and count) packets from clients to destinations outside their routes, except "
     "DNS (UDP and TCP port 53) to their dns servers; a no-route excludes, default or no "
     "IPv4 route allows every destination"},
    {"iroute", &t_iroute_list, OFF(iroutes), OFF(n_iroutes), 0, 64, NULL, R | U | UO,
     "network behind this user's client (repeatable, a.b.c.d/len or fd00:1::/64): routed to the "
     "client's tunnel, and packets from it are accepted from the client"},
    {"route-add-cmd", &t_string, OFF(route_add_cmd), 0, 0, 1024, NULL, R,
     "command (run by /bin/sh as root) that adds an iroute, with %{R} the route as "
     "a.b.c.d/m.m.m.m, %{RI} as a.b.c.d/len and %{D} the device; unset: sluiced adds the "
     "route itself"},
    {"route-del-cmd", &t_string, OFF(route_del_cmd), 0, 0, 1024, NULL, R,
     "command that removes an iroute, as route-add-cmd; unset: the route goes with the "
     "device"},
    {"mtu", &t_mtu, OFF(mtu), 0, 0, 9000, "0", R | U,
     "link MTU at most, as in ocserv (576 to 9000; 0: no limit): the tunnel MTU is the lower "
     "of this and the client's path MTU, less the IP, UDP and DTLS overhead"},
    {"default-domain", &t_domains, OFF(default_domain), 0, 0, 1024, NULL, R,
     "DNS search domains for clients (space-separated)"},
    {"banner", &t_string, OFF(banner), 0, 0, 1024, NULL, R,
     "message shown to users after login (X-CSTP-Banner; at most 1024 bytes); without "
     "pre-login-banner, also on the login form, since openconnect shows only that one"},
    {"pre-login-banner", &t_string, OFF(pre_login_banner), 0, 0, 1024, NULL, R,
     "message shown on the login form, before the user logs in (at most 1024 bytes)"},
    {"included-http-headers", &t_http_header_list, OFF(http_headers), OFF(n_http_headers), 0,
     32, NULL, R,
     "header line added to every HTTP response before the tunnel (repeatable), as "
     "\"Name: value\", e.g. Strict-Transport-Security: max-age=31536000; at most 1024 "
     "characters each, 8192 together; not to the CONNECT reply, not to camouflage's "
     "decoy"},
    {"user-profile", &t_path, OFF(user_profile), 0, 0, PATH_LEN_MAX, NULL, R,
     "AnyConnect XML client profile (at most 16 KiB): the login's success reply names it "
     "(vpn-profile-manifest: /profiles/ and the file's name, its SHA-1), and a GET of it "
     "with a valid session cookie gets the file (openconnect with --xmlconfig, Cisco "
     "clients); main reads it at start-up and on every reload (one that cannot read it "
     "keeps the one read before); global only, as in ocserv"},
    {"select-group", &t_select_group, OFF(select_groups), OFF(n_select_groups), 0, 128, NULL, R,
     "group users may choose on the login form (repeatable): NAME or NAME[Label]; a user "
     "who chooses a group they are not a member of is refused"},
    {"default-select-group", &t_string, OFF(default_select_group), 0, 0, 64, NULL, R,
     "label of an extra first choice on the login form that means the user's own "
     "(first) group"},
    {"auto-select-group", &t_bool, OFF(auto_select_group), 0, 0, 0, "false", R,
     "the login form's groups are all those auth knows, in place of select-group, as in "
     "ocserv: with plain, every group of the password file; with pam, the system's groups "
     "of gid-min and above; listed at start-up and on every reload (names of 1 to 32 "
     "letters, digits, '.', '_', '-'; the first 128); a user who chooses a group they are "
     "not a member of is refused",
     check_auto_select_group},
    {"config-per-user", &t_path, OFF(config_per_user), 0, 0, PATH_LEN_MAX, NULL, R,
     "directory of per-user files, each named after its user; read at every login"},
    {"config-per-group", &t_path, OFF(config_per_group), 0, 0, PATH_LEN_MAX, NULL, R,
     "directory of per-group files, each named after its group; a user's file wins "
     "over its group's, repeatable keys add up"},
    {"default-user-config", &t_path, OFF(default_user_config), 0, 0, PATH_LEN_MAX, NULL, R,
     "per-user file for users without a file in config-per-user"},
    {"default-group-config", &t_path, OFF(default_group_config), 0, 0, PATH_LEN_MAX, NULL, R,
     "per-group file for users whose group has no file in config-per-group, or who have "
     "no group"},
    {"log-level", &t_log_level, OFF(log_level), 0, 0, 9, "1", R,
     "0 = notices, 1 = info, 2 to 9 = debug"},
    {"audit-log", &t_path, OFF(audit_log), 0, 0, PATH_LEN_MAX, NULL, SL,
     "file to append the audit records to, one JSON line each, synced per record and "
     "reopened on SIGHUP; unset: journal and syslog only"},
    {"connect-script", &t_path, OFF(connect_script), 0, 0, PATH_LEN_MAX, NULL, R,
     "program run by main (as root, with ocserv's environment) before a client gets its "
     "tunnel; a non-zero exit refuses the client"},
    {"disconnect-script", &t_path, OFF(disconnect_script), 0, 0, PATH_LEN_MAX, NULL, R,
     "program run when a session ends, with its byte counts and duration"},
    {"host-update-script", &t_path, OFF(host_update_script), 0, 0, PATH_LEN_MAX, NULL, R,
     "program run when a client has told its host name"},
    {"script-timeout", &t_uint, OFF(script_timeout), 0, 1, 3600, "30", R | SL,
     "seconds a script may run before it is killed; a connect script that times out refuses "
     "its client"},
};

const size_t config_n_keys = sizeof(config_keys) / sizeof(config_keys[0]);

const struct config_key *config_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < config_n_keys; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/* ocserv keys (ocserv-reference.md §1) outside the schema, and what sluice does with each
 * (config.h). */
static const struct config_ocserv_key ocserv_keys[] = {
    {"always-require-cert", OCSERV_REFUSED,
     "ocserv replaced it by cisco-client-compat; set that instead"},
    {"append-routes", OCSERV_REFUSED,
     "per-user and per-group routes replace the global ones, as with ocserv's default (false)"},
    {"ban-points-kkdcp", OCSERV_REFUSED,
     "sluice has no Kerberos KDC proxy (kkdcp)"},
    {"cgroup", OCSERV_REFUSED,
     "workers are not placed in per-user cgroups; limit them with the systemd unit's resource settings"},
    {"chroot-dir", OCSERV_INERT, "a worker opens no file at all once it runs (seccomp), which confines it more "
	"than a chroot; main and sec need the system's files"},
    {"cisco-svc-client-compat", OCSERV_REFUSED,
     "the SVC protocol of Cisco IP phones is not supported"},
    {"custom-header", OCSERV_REFUSED,
     "extra headers in the tunnel's answer are not supported"},
    {"debug-no-secmod-stats", OCSERV_INERT,
     "sec keeps no statistics to turn off"},
    {"dh-params", OCSERV_REFUSED,
     "sluice takes no Diffie-Hellman parameter file; remove the line"},
    {"hostname", OCSERV_REFUSED, NULL},
    {"kkdcp", OCSERV_REFUSED,
     "sluice has no Kerberos KDC proxy (gssapi logins are not supported)"},
    {"listen-clear-file", OCSERV_REFUSED,
     "sluice terminates TLS itself; a balancer in front passes connections with the PROXY protocol (listen-proxy-proto)"},
    {"listen-host-is-dyndns", OCSERV_REFUSED,
     "listen-host is resolved once, at start"},
    {"listen-netns", OCSERV_REFUSED,
     "start sluiced inside the namespace instead (ip netns exec, or NetworkNamespacePath= in its unit)"},
    {"match-tls-dtls-ciphers", OCSERV_REFUSED,
     "the DTLS cipher follows tls-priorities and the client's offer"},
    {"min-reauth-time", OCSERV_ALIAS, "ban-time"},
    {"ipv4-dns", OCSERV_ALIAS, "dns"},
    {"ipv6-dns", OCSERV_ALIAS, "dns"},
    {"ipv4-nbns", OCSERV_ALIAS, "nbns"},
    {"ipv6-nbns", OCSERV_ALIAS, "nbns"},
    {"session-control", OCSERV_INERT,
     "ocserv deprecated it and ignores it too"},
    {"tunnel_all_dns", OCSERV_ALIAS, "tunnel-all-dns"},
    {"net-priority", OCSERV_REFUSED,
     "a session's socket priority is not set"},
    {"output-buffer", OCSERV_INERT, "the kernel sizes a worker's socket buffers"},
    {"proxy-url", OCSERV_REFUSED, NULL},
    {"sec-mod-scale", OCSERV_INERT, "sluice has one sec, whose slow work (PAM, RADIUS, LDAP) its auth helpers do in "
	"parallel (auth-helpers)"},
    {"select-group-by-url", OCSERV_REFUSED,
     "the group is chosen in the login form (select-group)"},
    {"server-stats-reset-time", OCSERV_INERT, "sluicectl show status counts from the start; the metrics page (metrics-listen) "
	"has counters to take rates over any period from"},
    {"srk-pin", OCSERV_REFUSED,
     "TPM keys are not supported; keys in PKCS#11 tokens are (server-key = pkcs11:...)"},
    {"srk-pin-file", OCSERV_REFUSED,
     "TPM keys are not supported; keys in PKCS#11 tokens are (server-key = pkcs11:...)"},
    {"use-dbus", OCSERV_INERT,
     "control goes through the occtl socket, which is always on (ocserv replaced use-dbus by use-occtl)"},
    {"use-occtl", OCSERV_INERT, "the control socket (occtl-socket-file, root only) is always on"},
    {"use-seccomp", OCSERV_ALIAS, "isolate-workers"},
    {"use-utmp", OCSERV_INERT, "sessions are in the audit log (audit-log) and the journal, not in utmp"},
};

const struct config_ocserv_key *config_ocserv_keys(size_t *n)
{
	*n = sizeof(ocserv_keys) / sizeof(ocserv_keys[0]);
	return ocserv_keys;
}

const struct config_ocserv_key *config_ocserv_key(const char *name)
{
	for (size_t i = 0; i < sizeof(ocserv_keys) / sizeof(ocserv_keys[0]); i++)
		if (strcmp(ocserv_keys[i].name, name) == 0)
			return &ocserv_keys[i];
	return NULL;
}
