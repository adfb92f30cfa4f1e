#include "config.h"
#include "common/config.h"
#include "common/ports.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "check_main.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define CONFIG_DIR SRCDIR "/tests/unit/config"

/* tests/unit/config/NAME.conf with NAME.expected (the dump) or bad-NAME.err */
static char **golden;
static size_t n_golden;

static const char base[] = "auth = plain[passwd=/etc/sluice/passwd]\n"
			   "server-cert = /srv/cert.pem\n"
			   "server-key = /srv/key.pem\n"
			   "ipv4-network = 198.19.0.0/24\n";

static char *read_text(TALLOC_CTX *ctx, const char *path)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = talloc_size(ctx, (size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	return buf;
}

static char *dump(TALLOC_CTX *ctx, const struct sluice_config *cfg)
{
	char *mem = NULL, *out;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);

	ck_assert_ptr_nonnull(f);
	config_dump(cfg, f);
	ck_assert_int_eq(fclose(f), 0);
	out = talloc_strdup(ctx, mem);
	free(mem);
	return out;
}

static struct sluice_config *load(TALLOC_CTX *ctx, const char *text, char *err, size_t errlen)
{
	return config_load_string(ctx, text, "t.conf", err, errlen);
}

/* The dump is itself a configuration that must read back to the same dump. */
static void assert_round_trip(TALLOC_CTX *ctx, const struct sluice_config *cfg)
{
	char err[512];
	char *first = dump(ctx, cfg);
	struct sluice_config *again = config_load_string(ctx, first, "dump", err, sizeof(err));

	ck_assert_msg(again != NULL, "dump does not load: %s", err);
	ck_assert_str_eq(dump(ctx, again), first);
}

/* An ocserv key that sluice refuses. */
static bool ocserv_refused(const char *name)
{
	const struct config_ocserv_key *o = config_ocserv_key(name);

	return o && o->kind == OCSERV_REFUSED;
}

/* A report function: each problem appended to a talloc string, a line each. */
static void collect(void *data, const char *problem)
{
	char **text = data;

	*text = talloc_asprintf_append(*text, "%s\n", problem);
}

START_TEST(test_golden)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const char *conf = golden[_i];
	size_t stem = strlen(conf) - strlen(".conf");
	struct sluice_config *cfg;
	char err[512] = "", *want;

	cfg = config_load(ctx, conf, err, sizeof(err));
	if (strncmp(conf, "bad-", 4) == 0) {
		/* The .err file lists every problem of the file, a line each, as sluiced -t
		 * prints them; err holds the first and how many more there are. */
		char *all = talloc_strdup(ctx, ""), *first;
		unsigned n = 0;

		want = read_text(ctx, talloc_asprintf(ctx, "%.*s.err", (int)stem, conf));
		ck_assert_msg(cfg == NULL, "%s loaded but should fail", conf);
		ck_assert_ptr_null(config_load_report(ctx, conf, collect, &all));
		ck_assert_str_eq(all, want);
		for (const char *p = want; *p; p++)
			n += *p == '\n';
		first = talloc_strndup(ctx, want, strcspn(want, "\n"));
		if (n > 1)
			first = talloc_asprintf_append(first, " (and %u more problem%s)", n - 1,
						       n > 2 ? "s" : "");
		ck_assert_str_eq(err, first);
	} else {
		want = read_text(ctx, talloc_asprintf(ctx, "%.*s.expected", (int)stem, conf));
		ck_assert_msg(cfg != NULL, "%s: %s", conf, err);
		ck_assert_str_eq(dump(ctx, cfg), want);
		assert_round_trip(ctx, cfg);
	}
	talloc_free(ctx);
}
END_TEST

START_TEST(test_golden_present)
{
	size_t i, bad = 0;

	for (i = 0; i < n_golden; i++)
		bad += strncmp(golden[i], "bad-", 4) == 0;
	ck_assert_uint_ge(bad, 40);
	ck_assert_uint_ge(n_golden - bad, 8);
}
END_TEST

START_TEST(test_fields)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512];
	struct sluice_config *cfg = config_load(ctx, "ocserv-sample.conf", err, sizeof(err));

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->file, "ocserv-sample.conf");
	ck_assert_str_eq(cfg->passwd_file, "/etc/ocserv/ocpasswd");
	ck_assert_uint_eq(cfg->ipv4_prefix, 24);
	ck_assert_uint_eq(ntohl(cfg->ipv4_network.s_addr), 0xc6130000u);
	ck_assert_uint_eq(ntohl(cfg->ipv4_netmask.s_addr), 0xffffff00u);
	ck_assert_uint_eq(cfg->n_dns, 2);
	ck_assert_str_eq(cfg->dns[1], "fd00::53");
	ck_assert_uint_eq(cfg->n_routes, 2);
	ck_assert_uint_eq(cfg->n_no_routes, 1);
	ck_assert_ptr_null(cfg->listen_host);
	ck_assert_ptr_null(cfg->worker_path);
	ck_assert(cfg->isolate_workers);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	/* Its IPv6 DNS server without an ipv6-network is never used: said, not hidden. */
	ck_assert_uint_eq(cfg->n_warnings, 1);
	ck_assert_str_eq(cfg->warnings[0], "ocserv-sample.conf:40: key 'dns': 'fd00::53' is IPv6, "
					   "but there is no ipv6-network: it is not used");
	talloc_free(ctx);
}
END_TEST

START_TEST(test_log_levels)
{
	static const struct {
		const char *text;
		int level;
	} cases[] = {{"0", LOG_NOTICE}, {"1", LOG_INFO}, {"2", LOG_DEBUG}, {"9", LOG_DEBUG}};
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct sluice_config *cfg;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = load(ctx, talloc_asprintf(ctx, "%slog-level = %s\n", base, cases[i].text),
			   err, sizeof(err));
		ck_assert_msg(cfg != NULL, "%s", err);
		ck_assert_int_eq(cfg->log_level, cases[i].level);
	}
	talloc_free(ctx);
}
END_TEST

START_TEST(test_warnings)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512];
	struct sluice_config *cfg = config_load(ctx, "old-plain.conf", err, sizeof(err));

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(cfg->isolate_workers);
	ck_assert_uint_eq(cfg->n_warnings, 2);
	ck_assert_ptr_nonnull(strstr(cfg->warnings[0], "old-plain.conf:9: try-mtu-discovery has no "
						       "effect"));
	ck_assert_str_eq(cfg->warnings[1], "old-plain.conf:12: the worker sandbox cannot be turned "
					   "off; isolate-workers = false is ignored");
	talloc_free(ctx);
}
END_TEST

/* ocserv's other names and the keys that have no effect in sluice: an alias sets its
 * key (and counts as it for duplicates); an inert key is accepted with a warning that
 * says why, in the main file only; a refused one says why when it can. */
START_TEST(test_ocserv_keys)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct sluice_config *cfg;
	char err[512];

	cfg = load(ctx,
		   talloc_asprintf(ctx,
				   "%smin-reauth-time = 600\nchroot-dir = /var/lib/ocserv\n"
				   "use-occtl = true\nuse-seccomp = true\nping-leases = false\n",
				   base),
		   err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->ban_time, 600);
	ck_assert_uint_eq(cfg->n_warnings, 2);
	ck_assert_ptr_nonnull(strstr(cfg->warnings[0], "key 'chroot-dir' has no effect in sluice: "
						       "a worker opens no file at all"));
	ck_assert_ptr_nonnull(strstr(cfg->warnings[1], "key 'use-occtl' has no effect in sluice"));
	ck_assert_ptr_null(
	    load(ctx, talloc_asprintf(ctx, "%sban-time = 60\nmin-reauth-time = 600\n", base), err,
		 sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "key 'ban-time': duplicate"));
	ck_assert_ptr_null(
	    load(ctx, talloc_asprintf(ctx, "%sping-leases = true\n", base), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "sluice does not ping an address before it leases it"));
	/* try-mtu-discovery: false is silent, true warns that it does nothing */
	cfg = load(ctx, talloc_asprintf(ctx, "%stry-mtu-discovery = false\n", base), err,
		   sizeof(err));
	ck_assert_msg(cfg != NULL && cfg->n_warnings == 0, "%s", err);
	cfg = load(ctx, talloc_asprintf(ctx, "%stry-mtu-discovery = true\n", base), err,
		   sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(cfg->warnings[0], "try-mtu-discovery has no effect"));
	ck_assert_ptr_null(
	    load(ctx, talloc_asprintf(ctx, "%srekey-method = tls\n", base), err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "expected ssl or new-tunnel"));
	cfg = load(ctx,
		   talloc_asprintf(ctx, "%srekey-time = 3600\nrekey-method = new-tunnel\n", base),
		   err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->rekey_time, 3600);
	ck_assert_int_eq(cfg->rekey_method, CONFIG_REKEY_NEW_TUNNEL);

	/* cisco-client-compat: legacy DTLS on (with a warning if the file turned it off),
	 * TLS 1.3 off only when the file does not choose tls-priorities itself. */
	cfg = load(
	    ctx, talloc_asprintf(ctx, "%scisco-client-compat = true\ndtls-legacy = false\n", base),
	    err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(cfg->cisco_client_compat && cfg->dtls_legacy);
	ck_assert_uint_eq(cfg->n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(cfg->warnings[0], "implies dtls-legacy = true"));
	ck_assert_ptr_nonnull(strstr(cfg->tls_priorities, ":-VERS-TLS1.3"));
	cfg = load(
	    ctx,
	    talloc_asprintf(ctx, "%scisco-client-compat = true\ntls-priorities = NORMAL\n", base),
	    err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->tls_priorities, "NORMAL");
	ck_assert_uint_eq(cfg->n_warnings, 0);
	talloc_free(ctx);
}
END_TEST

/* restrict-user-to-ports: ocserv's syntax in, the canonical text out; bad lists refused. */
START_TEST(test_ports)
{
	static const char *const bad[] = {
	    "tcp()",     "tcp(0)",   "tcp(65536)", "icmp(1)", "http(80)", "tcp(80) udp(53)",
	    "!(tcp(80)", "!tcp(80)", "tcp(80),",   "",        "tcp(80)x", "!(tcp(25)) x",
	};
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct sluice_config *cfg;
	struct port_list l;
	char err[512], why[160];

	ck_assert_int_eq(ports_parse(" tcp( 443 ) ,udp(53),icmp(), icmpv6(),esp(), sctp(99)", &l,
				     why, sizeof(why)),
			 0);
	ck_assert(!l.deny);
	ck_assert_uint_eq(l.n, 6);
	ck_assert_int_eq(l.rules[0].proto, PORT_TCP);
	ck_assert_uint_eq(l.rules[0].port, 443);
	ck_assert_int_eq(l.rules[3].proto, PORT_ICMPV6);
	ck_assert_uint_eq(l.rules[5].port, 99);
	ck_assert_int_eq(ports_parse("!( tcp(25), udp(137) )", &l, why, sizeof(why)), 0);
	ck_assert(l.deny);
	ck_assert_uint_eq(l.n, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ports_parse(bad[i], &l, why, sizeof(why)) == -EINVAL, "took '%s'",
			      bad[i]);
	cfg = load(
	    ctx,
	    talloc_asprintf(ctx, "%srestrict-user-to-ports = \"!( tcp(25) ,udp( 137 ))\"\n", base),
	    err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->restrict_to_ports, "!(tcp(25), udp(137))");
	ck_assert_ptr_null(load(ctx,
				talloc_asprintf(ctx, "%srestrict-user-to-ports = tcp(0)\n", base),
				err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "key 'restrict-user-to-ports': tcp needs a port"));
	talloc_free(ctx);
}
END_TEST

/* A short camouflage secret is accepted with a warning; camouflage off is quiet about
 * its other keys (ocserv's samples set them with camouflage = false). */
START_TEST(test_camouflage_warning)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct sluice_config *cfg;
	char err[512];

	cfg = load(
	    ctx,
	    talloc_asprintf(ctx, "%scamouflage = true\ncamouflage_secret = mysecretkey\n", base),
	    err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(cfg->camouflage);
	ck_assert_str_eq(cfg->camouflage_secret, "mysecretkey");
	ck_assert_ptr_null(cfg->camouflage_realm);
	ck_assert_uint_eq(cfg->n_warnings, 1);
	ck_assert_str_eq(cfg->warnings[0], "t.conf:5: key 'camouflage_secret': shorter than 16 "
					   "characters, so a scanner may guess it; use 16 or more "
					   "random characters");
	cfg = load(ctx,
		   talloc_asprintf(ctx, "%scamouflage = true\ncamouflage_secret = %s\n", base,
				   "0123456789abcdef"),
		   err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->n_warnings, 0);
	cfg = load(ctx, talloc_asprintf(ctx, "%scamouflage_secret = x\n", base), err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(!cfg->camouflage);
	ck_assert_uint_eq(cfg->n_warnings, 0);
	talloc_free(ctx);
}
END_TEST

static char *user_file(TALLOC_CTX *ctx, const char *text, char *err, size_t errlen);

/* auto-select-group: quiet with plain or pam alone; with select-group too, or with a
 * backend that lists no groups, a warning says which choices the form offers. user-profile
 * is global only, as ocserv's documentation has it. */
START_TEST(test_auto_select_group_profile)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct sluice_config *cfg;
	char err[512];

	cfg = load(ctx, talloc_asprintf(ctx, "%sauto-select-group = true\n", base), err,
		   sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(cfg->auto_select_group);
	ck_assert_uint_eq(cfg->n_warnings, 0);
	cfg = load(ctx,
		   talloc_asprintf(ctx, "%sauto-select-group = true\nselect-group = eng\n", base),
		   err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->n_warnings, 1);
	ck_assert_str_eq(cfg->warnings[0], "t.conf:5: key 'auto-select-group': the login form "
					   "offers the groups of auth, not select-group's (as in "
					   "ocserv)");
	cfg = load(ctx,
		   "auth = radius[config=/etc/radcli/radiusclient.conf]\nserver-cert = /c\n"
		   "server-key = /k\nipv4-network = 198.19.0.0/24\nauto-select-group = true\n",
		   err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(cfg->warnings[0], "only auth = plain and pam have groups"));

	cfg = load(ctx, talloc_asprintf(ctx, "%suser-profile = /etc/sluice/profile.xml\n", base),
		   err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->user_profile, "/etc/sluice/profile.xml");
	ck_assert_ptr_null(user_file(ctx, "user-profile = /etc/sluice/p.xml\n", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "key 'user-profile' is not allowed in a per-user"));
	talloc_free(ctx);
}
END_TEST

/* Lines up to the limit are read whole; one more character is an error, never a
 * silent split into two lines. */
START_TEST(test_line_length)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512], *text;
	size_t len;

	for (len = 4095; len <= 4097; len++) {
		char *comment = talloc_zero_size(ctx, len + 1);

		memset(comment, 'c', len);
		comment[0] = '#';
		text = talloc_asprintf(ctx, "%s%s\r\ntcp-port = 8443\n", base, comment);
		if (len <= 4096) {
			struct sluice_config *cfg = load(ctx, text, err, sizeof(err));

			ck_assert_msg(cfg != NULL, "%zu: %s", len, err);
			ck_assert_uint_eq(cfg->tcp_port, 8443);
		} else {
			ck_assert_ptr_null(load(ctx, text, err, sizeof(err)));
			ck_assert_str_eq(err,
					 "t.conf:5: line too long (more than 4096 characters)");
		}
	}
	talloc_free(ctx);
}
END_TEST

START_TEST(test_quoting_round_trip)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512];
	struct sluice_config *cfg;

	cfg =
	    load(ctx, talloc_asprintf(ctx, "%sbanner = \"\"quoted\" \"\n", base), err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->banner, "\"quoted\" ");
	assert_round_trip(ctx, cfg);
	cfg = load(ctx, talloc_asprintf(ctx, "%sbanner = \"\t tab\"\n", base), err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->banner, "\t tab");
	assert_round_trip(ctx, cfg);
	ck_assert_ptr_null(
	    load(ctx, talloc_asprintf(ctx, "%sbanner = a\x01z\n", base), err, sizeof(err)));
	ck_assert_str_eq(err, "t.conf:5: key 'banner': control character in value");
	talloc_free(ctx);
}
END_TEST

START_TEST(test_file_errors)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512], path[] = "/tmp/sluice-test-config-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "tcp-port = 443\ndpd = 9\0 0\n";

	ck_assert_ptr_null(config_load(ctx, "/nonexistent/sluice.conf", err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/sluice.conf: No such file or directory");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	ck_assert_ptr_null(config_load(ctx, path, err, sizeof(err)));
	ck_assert_str_eq(err, talloc_asprintf(ctx, "%s:2: NUL byte in line", path));
	unlink(path);
	/* a short error buffer truncates, it does not overflow */
	ck_assert_ptr_null(load(ctx, "bogus = 1\n", err, 8));
	ck_assert_str_eq(err, "t.conf:");
	talloc_free(ctx);
}
END_TEST

START_TEST(test_builtin)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512];
	struct sluice_config *cfg = config_builtin(ctx, "/var/lib/sluice-x", err, sizeof(err));

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->file, "(built-in)");
	ck_assert_uint_eq(cfg->n_auth, 1);
	ck_assert_str_eq(cfg->auth[0], "plain[passwd=/etc/sluice/passwd]");
	ck_assert_uint_eq(cfg->auth_required, CONFIG_AUTH_PASSWORD);
	ck_assert_str_eq(cfg->passwd_file, "/etc/sluice/passwd");
	ck_assert_str_eq(cfg->server_cert, "/var/lib/sluice-x/server-cert.pem");
	ck_assert_str_eq(cfg->server_key, "/var/lib/sluice-x/server-key.pem");
	ck_assert_str_eq(cfg->state_dir, "/var/lib/sluice-x");
	ck_assert_uint_eq(ntohl(cfg->ipv4_network.s_addr), 0x0a4d0000u);
	ck_assert_uint_eq(cfg->ipv4_prefix, 24);
	ck_assert_uint_eq(cfg->tcp_port, 443);
	ck_assert_str_eq(cfg->run_as_user, "nobody");
	ck_assert_ptr_null(config_builtin(ctx, "/var/lib/x\nauth-tries = 9", err, sizeof(err)));
	ck_assert_str_eq(err, "(built-in): bad state directory name");
	talloc_free(ctx);
}
END_TEST

START_TEST(test_check_system)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char dir[] = "/tmp/sluice-test-config-XXXXXX", err[512], *problems;
	struct sluice_config *cfg;
	const char *names[] = {"cert.pem", "key.pem", "passwd"};
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 3; i++) {
		int fd =
		    open(talloc_asprintf(ctx, "%s/%s", dir, names[i]), O_CREAT | O_WRONLY, 0600);

		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	cfg = load(ctx,
		   talloc_asprintf(ctx,
				   "auth = plain[passwd=%s/passwd]\nserver-cert = %s/cert.pem\n"
				   "server-key = %s/key.pem\nipv4-network = 198.19.0.0/24\n"
				   "run-as-user = root\nrun-as-group = root\n",
				   dir, dir, dir),
		   err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	cfg->uid = 4242;
	cfg->gid = 4242;
	ck_assert_msg(config_check_system(cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg->uid, 0);
	ck_assert_uint_eq(cfg->gid, 0);

	cfg->ca_cert = talloc_strdup(cfg, dir);
	ck_assert_int_eq(config_check_system(cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(
	    err, talloc_asprintf(ctx, "t.conf: key 'ca-cert': '%s' is not a regular file", dir));
	cfg->ca_cert = NULL;

	unlink(talloc_asprintf(ctx, "%s/passwd", dir));
	ck_assert_int_eq(config_check_system(cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err,
			 talloc_asprintf(ctx,
					 "t.conf: key 'auth': cannot read '%s/passwd': No such "
					 "file or directory",
					 dir));

	/* Every problem is found; err has the first and how many more there are. */
	cfg->run_as_group = talloc_strdup(cfg, "sluice-no-such-group");
	ck_assert_int_lt(config_check_system(cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "t.conf: key 'run-as-group': no group 'sluice-no-such-group' "
			      "(and 1 more problem)");
	cfg->run_as_user = talloc_strdup(cfg, "sluice-no-such-user");
	ck_assert_int_lt(config_check_system(cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "t.conf: key 'run-as-user': no user 'sluice-no-such-user' "
			      "(and 2 more problems)");
	problems = talloc_strdup(ctx, "");
	ck_assert_uint_eq(config_check_system_report(cfg, collect, &problems), 3);
	ck_assert_str_eq(problems,
			 talloc_asprintf(ctx,
					 "t.conf: key 'run-as-user': no user "
					 "'sluice-no-such-user'\n"
					 "t.conf: key 'run-as-group': no group "
					 "'sluice-no-such-group'\n"
					 "t.conf: key 'auth': cannot read '%s/passwd': No such "
					 "file or directory\n",
					 dir));

	for (i = 0; i < 2; i++)
		unlink(talloc_asprintf(ctx, "%s/%s", dir, names[i]));
	rmdir(dir);
	talloc_free(ctx);
}
END_TEST

/* A per-user file in a temporary file; returns config_user_file's result. */
static char *user_file(TALLOC_CTX *ctx, const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/sluice-test-user-XXXXXX";
	int fd = mkstemp(path);
	bool missing = true;
	char *out;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	out = config_user_file(ctx, path, &missing, err, errlen);
	ck_assert(!missing);
	unlink(path);
	return out;
}

START_TEST(test_user_files)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512], global[1024];
	bool missing = false;
	char *g, *u, *merged;
	struct sluice_config *cfg, *eff;

	/* Only keys allowed per user, normalised, in schema order. */
	u = user_file(ctx, "iroute = 198.18.5.0/255.255.255.0\ndpd = 40\nroute = 198.18.100.0/24\n",
		      err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	ck_assert_str_eq(u, "dpd = 40\nroute = 198.18.100.0/24\niroute = 198.18.5.0/24\n");
	ck_assert_ptr_null(user_file(ctx, "tcp-port = 444\n", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, ":1: key 'tcp-port' is not allowed in a per-user"));
	ck_assert_ptr_null(user_file(ctx, "dpd = 40\ndpd = 41\n", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, ":2: key 'dpd': duplicate"));
	ck_assert_ptr_null(user_file(ctx, "iroute = default\n", err, sizeof(err)));
	ck_assert_ptr_null(user_file(ctx, "iroute = 0.0.0.0/0\n", err, sizeof(err)));
	ck_assert_ptr_null(user_file(ctx, "cgroup = cpuset,cpu:test\n", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "ocserv key that sluice does not support"));
	ck_assert_ptr_null(
	    config_user_file(ctx, "/nonexistent/sluice-user", &missing, err, sizeof(err)));
	ck_assert(missing);
	u = user_file(ctx, "# nothing\n", err, sizeof(err));
	ck_assert_str_eq(u, "");

	/* The main configuration may not hold a key that exists only per user. */
	snprintf(global, sizeof(global), "%siroute = 198.18.5.0/24\n", base);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "allowed only in per-user and per-group files"));

	/* The user's scalar wins; repeatable keys add up, group first. */
	g = "dpd = 40\nroute = 198.18.100.0/24\nmax-same-clients = 1\n";
	u = "dpd = 50\nroute = 198.18.101.0/24\n";
	merged = config_user_merge(ctx, g, u, err, sizeof(err));
	ck_assert_msg(merged, "%s", err);
	ck_assert_str_eq(merged, "max-same-clients = 1\ndpd = 50\nroute = 198.18.100.0/24\n"
				 "route = 198.18.101.0/24\n");
	ck_assert_str_eq(config_user_merge(ctx, NULL, u, err, sizeof(err)), u);
	ck_assert_str_eq(config_user_merge(ctx, "", "", err, sizeof(err)), "");
	/* An IPv6 pool alone: its clients' prefix length is the global one (128 by
	 * default), checked when the session's configuration is derived. */
	merged = config_user_merge(ctx, NULL, "ipv6-network = fd00:19::/64\n", err, sizeof(err));
	ck_assert_msg(merged, "%s", err);
	eff = config_derive(ctx, load(ctx, base, err, sizeof(err)), merged, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_uint_eq(eff->ipv6_prefix, 64);
	ck_assert_uint_eq(eff->ipv6_subnet_prefix, 128);
	ck_assert_ptr_null(config_derive(ctx, load(ctx, base, err, sizeof(err)),
					 "ipv6-network = fd00:19::/127\n", err, sizeof(err)));
	merged = config_user_merge(ctx, g, u, err, sizeof(err));

	/* Over the global configuration: lists the files set replace the global ones. */
	snprintf(global, sizeof(global),
		 "%sroute = 198.18.109.0/24\ndns = 198.18.109.53\ndpd = 90\n", base);
	cfg = load(ctx, global, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	eff = config_derive(ctx, cfg, merged, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_uint_eq(eff->dpd, 50);
	ck_assert_uint_eq(eff->max_same_clients, 1);
	ck_assert_uint_eq(eff->n_routes, 2);
	ck_assert_str_eq(eff->routes[0], "198.18.100.0/24");
	ck_assert_uint_eq(eff->n_dns, 1);
	ck_assert_str_eq(eff->dns[0], "198.18.109.53");
	ck_assert_str_eq(eff->server_cert, "/srv/cert.pem");
	ck_assert_uint_eq(cfg->n_routes, 1);
	/* No overrides: the same values as the global configuration. */
	eff = config_derive(ctx, cfg, "", err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_str_eq(dump(ctx, eff), dump(ctx, cfg));
	talloc_free(ctx);
}
END_TEST

/* session-timeout, split-dns and restrict-user-to-routes: global and per user. */
START_TEST(test_user_keys)
{
	static const char *const bad_domains[] = {
	    "corp..example.com",
	    ".corp",
	    "corp.",
	    "corp_x.example",
	    "a b",
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.com"};
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512], global[1024];
	struct sluice_config *cfg, *eff;
	char *u;

	snprintf(global, sizeof(global),
		 "%ssession-timeout = 3600\nsplit-dns = corp.example.com\n"
		 "split-dns = Lab-1.example.org\n",
		 base);
	cfg = load(ctx, global, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	ck_assert_uint_eq(cfg->session_timeout, 3600);
	ck_assert_uint_eq(cfg->n_split_dns, 2);
	ck_assert_str_eq(cfg->split_dns[1], "Lab-1.example.org");
	ck_assert(!cfg->restrict_to_routes);
	for (size_t i = 0; i < sizeof(bad_domains) / sizeof(bad_domains[0]); i++) {
		snprintf(global, sizeof(global), "%ssplit-dns = \"%s\"\n", base, bad_domains[i]);
		ck_assert_msg(!load(ctx, global, err, sizeof(err)), "%s accepted", bad_domains[i]);
		ck_assert_ptr_nonnull(strstr(err, "is not a domain name"));
	}
	snprintf(global, sizeof(global), "%ssession-timeout = 31622401\n", base);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err)));

	u = user_file(ctx,
		      "restrict-user-to-routes = yes\nsplit-dns = eng.example.com\n"
		      "session-timeout = 5\n",
		      err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	ck_assert_str_eq(u, "session-timeout = 5\nsplit-dns = eng.example.com\n"
			    "restrict-user-to-routes = true\n");
	snprintf(global, sizeof(global), "%ssession-timeout = 3600\nsplit-dns = corp.example.com\n",
		 base);
	cfg = load(ctx, global, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	eff = config_derive(ctx, cfg, u, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_uint_eq(eff->session_timeout, 5);
	ck_assert(eff->restrict_to_routes);
	/* The file's domains replace the global ones, as for every repeatable key. */
	ck_assert_uint_eq(eff->n_split_dns, 1);
	ck_assert_str_eq(eff->split_dns[0], "eng.example.com");
	ck_assert(!ocserv_refused("session-timeout"));
	/* cert-pin: per user only, sha256: and 64 hex digits, kept in lower case. */
	u = user_file(
	    ctx,
	    "cert-pin = SHA256:00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\n",
	    err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	ck_assert_str_eq(
	    u, "cert-pin = "
	       "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	ck_assert_ptr_null(user_file(ctx, "cert-pin = sha256:0011\n", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "is not sha256: and 64 hex digits"));
	ck_assert_ptr_null(
	    user_file(ctx,
		      "cert-pin = md5:00112233445566778899aabbccddeeff00112233445566778"
		      "899aabbccddeeff\n",
		      err, sizeof(err)));
	snprintf(global, sizeof(global), "%scert-pin = sha256:%064d\n", base, 0);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err)));
	talloc_free(ctx);
}
END_TEST

/* IPv6 pools: global, and per user or group with the other ways of writing the length;
 * a per-user file that changes the pool names the network. */
START_TEST(test_ipv6_keys)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512], global[1024];
	struct sluice_config *cfg, *eff;
	char text[INET6_ADDRSTRLEN];
	char *u;

	snprintf(global, sizeof(global),
		 "%sipv6-network = fd00:19::\nipv6-prefix = 48\nipv6-subnet-prefix = 64\n"
		 "iroute = fd00:77::/48\n",
		 base);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err))); /* iroute: per user only */
	snprintf(global, sizeof(global),
		 "%sipv6-network = fd00:19::\nipv6-prefix = 48\nipv6-subnet-prefix = 64\n", base);
	cfg = load(ctx, global, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	ck_assert_uint_eq(cfg->ipv6_prefix, 48);
	ck_assert_uint_eq(cfg->ipv6_subnet_prefix, 64);
	assert_round_trip(ctx, cfg);

	/* A user's own pool with its length written apart, and a /128 per client. */
	u = user_file(ctx,
		      "ipv6-network = fd00:5::\nipv6-prefix = 112\nipv6-subnet-prefix = 128\n"
		      "explicit-ipv6 = FD00:5::77\niroute = fd00:77::/48\n",
		      err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	eff = config_derive(ctx, cfg, u, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	inet_ntop(AF_INET6, &eff->ipv6_network, text, sizeof(text));
	ck_assert_str_eq(text, "fd00:5::");
	ck_assert_uint_eq(eff->ipv6_prefix, 112);
	ck_assert_uint_eq(eff->ipv6_subnet_prefix, 128);
	ck_assert_str_eq(eff->explicit_ipv6, "fd00:5::77");
	ck_assert_str_eq(eff->iroutes[0], "fd00:77::/48");
	/* Only the subnet prefix: checked against the global network. */
	u = user_file(ctx, "ipv6-subnet-prefix = 56\n", err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	eff = config_derive(ctx, cfg, u, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_uint_eq(eff->ipv6_subnet_prefix, 56);
	u = user_file(ctx, "ipv6-subnet-prefix = 49\n", err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	ck_assert_ptr_null(config_derive(ctx, cfg, u, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no room for clients' /49 prefixes"));
	/* The length alone changes nothing: an error, as ipv4-netmask alone is. */
	ck_assert_ptr_null(user_file(ctx, "ipv6-prefix = 64\n", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "needs ipv6-network in the same file"));
	ck_assert_ptr_null(user_file(ctx, "explicit-ipv6 = 198.19.0.7\n", err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "is not an IPv6 address"));
	ck_assert_ptr_null(user_file(ctx, "iroute = fd00:77::\n", err, sizeof(err)));
	ck_assert_ptr_null(user_file(ctx, "iroute = ::/0\n", err, sizeof(err)));
	ck_assert(!ocserv_refused("ipv6-network"));
	talloc_free(ctx);
}
END_TEST

/* rx-data-per-sec and tx-data-per-sec: bytes per second up to 2^32 - 1, global and
 * per user; a user's file wins over the global value. */
START_TEST(test_bandwidth_keys)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512], global[1024];
	struct sluice_config *cfg, *eff;
	char *u;

	cfg = load(ctx, base, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	ck_assert_uint_eq(cfg->rx_data_per_sec, 0);
	ck_assert_uint_eq(cfg->tx_data_per_sec, 0);
	snprintf(global, sizeof(global), "%srx-data-per-sec = 4294967295\ntx-data-per-sec = 1000\n",
		 base);
	cfg = load(ctx, global, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	ck_assert_uint_eq(cfg->rx_data_per_sec, 4294967295u);
	ck_assert_uint_eq(cfg->tx_data_per_sec, 1000);
	snprintf(global, sizeof(global), "%stx-data-per-sec = 4294967296\n", base);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "out of range"));

	u = user_file(ctx, "tx-data-per-sec = 250000\nrx-data-per-sec = 125000\n", err,
		      sizeof(err));
	ck_assert_msg(u, "%s", err);
	eff = config_derive(ctx, cfg, u, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_uint_eq(eff->rx_data_per_sec, 125000);
	ck_assert_uint_eq(eff->tx_data_per_sec, 250000);
	ck_assert(!ocserv_refused("rx-data-per-sec"));
	ck_assert(!ocserv_refused("tx-data-per-sec"));
	talloc_free(ctx);
}
END_TEST

/* session-quota-bytes (64-bit) and max-same-clients-policy: global and per user. */
START_TEST(test_quota_policy_keys)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char err[512], global[1024];
	struct sluice_config *cfg, *eff;
	char *u;

	cfg = load(ctx, base, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	ck_assert_uint_eq(cfg->session_quota_bytes, 0);
	ck_assert_int_eq(cfg->max_same_clients_policy, CONFIG_SAME_REFUSE);
	snprintf(global, sizeof(global),
		 "%ssession-quota-bytes = 1000000000000000000\nmax-same-clients-policy = refuse\n",
		 base);
	cfg = load(ctx, global, err, sizeof(err));
	ck_assert_msg(cfg, "%s", err);
	ck_assert_uint_eq(cfg->session_quota_bytes, 1000000000000000000ULL);
	snprintf(global, sizeof(global), "%ssession-quota-bytes = 1000000000000000001\n", base);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "out of range"));
	snprintf(global, sizeof(global), "%ssession-quota-bytes = -1\n", base);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "is not a number of bytes"));
	snprintf(global, sizeof(global), "%smax-same-clients-policy = Replace-Oldest\n", base);
	ck_assert_ptr_null(load(ctx, global, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "is not a policy"));

	/* A group's file sets the quota, the user's file the policy and its own quota. */
	u = config_user_merge(ctx, "session-quota-bytes = 5000000000\n",
			      "max-same-clients-policy = replace-oldest\n", err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	eff = config_derive(ctx, cfg, u, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_uint_eq(eff->session_quota_bytes, 5000000000ULL);
	ck_assert_int_eq(eff->max_same_clients_policy, CONFIG_SAME_REPLACE_OLDEST);
	u = user_file(ctx, "session-quota-bytes = 200000\n", err, sizeof(err));
	ck_assert_msg(u, "%s", err);
	ck_assert_str_eq(u, "session-quota-bytes = 200000\n");
	eff = config_derive(ctx, cfg, u, err, sizeof(err));
	ck_assert_msg(eff, "%s", err);
	ck_assert_uint_eq(eff->session_quota_bytes, 200000);
	ck_assert_int_eq(eff->max_same_clients_policy, CONFIG_SAME_REFUSE);
	ck_assert(!ocserv_refused("session-quota-bytes"));
	ck_assert(!ocserv_refused("max-same-clients-policy"));
	talloc_free(ctx);
}
END_TEST

START_TEST(test_schema)
{
	char *mem = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&mem, &len);

	ck_assert_ptr_nonnull(f);
	config_print_schema(f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_ge(config_n_keys, 38);
	for (i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_keys[i];
		char *line = NULL;

		ck_assert_ptr_eq(config_key_find(k->name), k);
		ck_assert_msg(!ocserv_refused(k->name), "%s listed as unsupported", k->name);
		ck_assert_msg(k->help && *k->help, "%s has no help", k->name);
		ck_assert_msg(!(k->flags & CONFIG_REQUIRED) || !k->def, "%s: required with default",
			      k->name);
		ck_assert_int_gt(asprintf(&line, "%s\n\t", k->name), 0);
		ck_assert_msg(strstr(mem, line) && strstr(mem, k->help), "%s not printed", k->name);
		free(line);
	}
	ck_assert_ptr_nonnull(strstr(mem, "udp-port\n\tnumber (0 to 65535); default: 0; needs a "
					  "restart\n\tUDP port for DTLS, 0 = DTLS off\n"));
	ck_assert(ocserv_refused("kkdcp"));
	ck_assert_ptr_null(config_key_find("kkdcp"));
	free(mem);
}
END_TEST

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect_golden(void)
{
	DIR *d = opendir(".");
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char **grown;

		if (len < 6 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		grown = realloc(golden, (n_golden + 1) * sizeof(*golden));
		if (!grown || !(grown[n_golden] = strdup(e->d_name))) {
			closedir(d);
			return -ENOMEM;
		}
		golden = grown;
		n_golden++;
	}
	closedir(d);
	qsort(golden, n_golden, sizeof(*golden), by_name);
	return 0;
}

int main(void)
{
	/* Counted first: each golden file is one run of test_golden. */
	if (chdir(CONFIG_DIR) < 0 || collect_golden() < 0) {
		fprintf(stderr, "test_config: cannot read %s: %s\n", CONFIG_DIR, strerror(errno));
		return 1;
	}

	const struct check_test tests[] = {
	    {test_golden, true, (int)n_golden},
	    {test_golden_present},
	    {test_fields},
	    {test_log_levels},
	    {test_warnings},
	    {test_camouflage_warning},
	    {test_auto_select_group_profile},
	    {test_ocserv_keys},
	    {test_ports},
	    {test_line_length},
	    {test_quoting_round_trip},
	    {test_file_errors},
	    {test_builtin},
	    {test_check_system},
	    {test_schema},
	    {test_user_files},
	    {test_user_keys},
	    {test_bandwidth_keys},
	    {test_quota_policy_keys},
	    {test_ipv6_keys},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"config", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("config", cases);
}
