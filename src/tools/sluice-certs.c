/* sluice-certs: makes and checks the certificates of a sluice server and its users.
 * One table lists the commands, the options each takes and their help. */
#include "config.h"

#include "tools/certs.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt {
	O_DIR = 1 << 0,
	O_FORCE = 1 << 1,
	O_DAYS = 1 << 2,
	O_KEY_TYPE = 1 << 3,
	O_BITS = 1 << 4,
	O_CN = 1 << 5,
	O_OUT = 1 << 6,
	O_UID = 1 << 7,
	O_EMAIL = 1 << 8,
	O_NO_P12 = 1 << 9,
	O_P12_LEGACY = 1 << 10,
	O_SERIAL = 1 << 11,
	O_CA = 1 << 12,
	O_CRL = 1 << 13,
	O_NAME = 1 << 14,
	O_WARN_DAYS = 1 << 15,
};

#define KEY_OPTS (O_KEY_TYPE | O_BITS)

static const struct option longopts[] = {
    {"dir", required_argument, NULL, 'd'},
    {"force", no_argument, NULL, 'f'},
    {"days", required_argument, NULL, O_DAYS},
    {"key-type", required_argument, NULL, O_KEY_TYPE},
    {"bits", required_argument, NULL, O_BITS},
    {"cn", required_argument, NULL, O_CN},
    {"out", required_argument, NULL, O_OUT},
    {"uid", no_argument, NULL, O_UID},
    {"email", required_argument, NULL, O_EMAIL},
    {"no-p12", no_argument, NULL, O_NO_P12},
    {"p12-legacy", no_argument, NULL, O_P12_LEGACY},
    {"serial", required_argument, NULL, O_SERIAL},
    {"ca", required_argument, NULL, O_CA},
    {"crl", required_argument, NULL, O_CRL},
    {"name", required_argument, NULL, O_NAME},
    {"warn-days", required_argument, NULL, O_WARN_DAYS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

struct command {
	const char *name;
	const char *synopsis;
	const char *help;
	unsigned opts; /* besides --dir */
	int min_args, max_args;
	int (*run)(TALLOC_CTX *ctx, const struct certs_opts *o);
};

static const struct command commands[] = {
    {"init-ca", "[--cn NAME] [--days N] [--key-type T] [--force]",
     "make the CA: key, self-signed certificate, state file, empty CRL",
     O_CN | O_DAYS | KEY_OPTS | O_FORCE, 0, 0, certs_cmd_init_ca},
    {"server", "[--cn NAME] [--out BASE] [--days N] [--key-type T] [--force] NAME|IP...",
     "a server key and certificate for these DNS names and IP addresses",
     O_CN | O_OUT | O_DAYS | KEY_OPTS | O_FORCE, 1, INT_MAX, certs_cmd_server},
    {"client", "[--uid] [--email ADDR] [--no-p12] [--p12-legacy] [--days N] [--force] USER",
     "a client key and certificate with CN=USER, and a PKCS#12 file",
     O_UID | O_EMAIL | O_NO_P12 | O_P12_LEGACY | O_DAYS | KEY_OPTS | O_FORCE, 1, 1,
     certs_cmd_client},
    {"revoke", "[--days N] FILE | --serial HEX",
     "revoke a certificate of this CA and write the CRL", O_SERIAL | O_DAYS, 0, 1,
     certs_cmd_revoke},
    {"crl", "[--days N]", "write the CRL anew (next update in N days, default 365)", O_DAYS, 0, 0,
     certs_cmd_crl},
    {"list", "", "list the certificates the CA signed", 0, 0, 0, certs_cmd_list},
    {"show", "FILE...", "describe certificates (PEM or DER) and CRLs", 0, 1, INT_MAX,
     certs_cmd_show},
    {"check", "[--ca FILE] [--crl FILE] [--name NAME]... [--warn-days N] CERT [KEY]",
     "check a certificate: key, chain, revocation, dates, names",
     O_CA | O_CRL | O_NAME | O_WARN_DAYS, 1, 2, certs_cmd_check},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " CERTS_PROG " [--dir DIR] COMMAND [OPTIONS] [ARGUMENTS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s %s\n      %s\n", commands[i].name, commands[i].synopsis,
			commands[i].help);
	fprintf(
	    f,
	    "\noptions:\n"
	    "  -d, --dir DIR      the CA directory (default " CERTS_DEFAULT_DIR ")\n"
	    "  -f, --force        replace existing keys and certificates\n"
	    "  --days N           validity in days (CA 3650, server 825, client 365, CRL 365)\n"
	    "  --key-type T       ecdsa (P-256, the default) or rsa\n"
	    "  --bits N           RSA key size (default 3072)\n"
	    "  --cn NAME          common name (CA: \"sluice CA\"; server: its first name)\n"
	    "  --out BASE         server files BASE-cert.pem and BASE-key.pem (default server)\n"
	    "  --uid              client: UID=USER in the subject as well\n"
	    "  --email ADDR       client: ADDR as an e-mail name (SAN rfc822Name)\n"
	    "  --no-p12           client: no PKCS#12 file\n"
	    "  --p12-legacy       client: PKCS#12 with 3DES and a SHA-1 MAC, for old importers\n"
	    "  --serial HEX       revoke: the serial number (see list)\n"
	    "  --ca FILE          check: the CA (default DIR/" CERTS_CA_CERT " if it exists)\n"
	    "  --crl FILE         check: the CRL (default DIR/" CERTS_CRL " with DIR's CA)\n"
	    "  --name NAME        check: the certificate must cover NAME (DNS name, IP, e-mail)\n"
	    "  --warn-days N      check: expiry within N days is a problem (default 30)\n"
	    "  -h, --help         show this help and exit\n"
	    "  -V, --version      show the version and exit\n"
	    "\n"
	    "The PKCS#12 password is asked twice on a terminal, or read as one line from\n"
	    "standard input. Exit status: 0 success, 1 error or a problem found by check,\n"
	    "2 usage error.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static int number(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		certs_fail("--%s '%s': a number from %ld to %ld", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static const char *opt_name(int c)
{
	for (size_t i = 0; longopts[i].name != NULL; i++) {
		if (longopts[i].val == c)
			return longopts[i].name;
	}
	return "?";
}

static int set_option(TALLOC_CTX *ctx, struct certs_opts *o, int c, const char *arg)
{
	long v;

	switch (c) {
	case 'd':
		o->dir = arg;
		return arg[0] ? 0 : (certs_fail("--dir: empty directory name"), -EINVAL);
	case 'f':
		o->force = true;
		return 0;
	case O_DAYS:
		return number("days", arg, 1, 36500, &o->days);
	case O_WARN_DAYS:
		return number("warn-days", arg, 0, 36500, &o->warn_days);
	case O_BITS:
		if (number("bits", arg, 2048, 16384, &v) < 0)
			return -EINVAL;
		o->bits = (unsigned)v;
		return 0;
	case O_KEY_TYPE:
		if (strcmp(arg, "ecdsa") == 0)
			o->key_type = CERTS_KEY_ECDSA;
		else if (strcmp(arg, "rsa") == 0)
			o->key_type = CERTS_KEY_RSA;
		else
			return certs_fail("--key-type '%s': ecdsa or rsa", arg), -EINVAL;
		return 0;
	case O_CN:
		o->cn = arg;
		return 0;
	case O_OUT:
		o->out = arg;
		return 0;
	case O_UID:
		o->uid = true;
		return 0;
	case O_EMAIL:
		o->email = arg;
		return 0;
	case O_NO_P12:
		o->no_p12 = true;
		return 0;
	case O_P12_LEGACY:
		o->p12_legacy = true;
		return 0;
	case O_SERIAL:
		o->serial = arg;
		return 0;
	case O_CA:
		o->ca_file = arg;
		return 0;
	case O_CRL:
		o->crl_file = arg;
		return 0;
	case O_NAME:
		o->names = talloc_realloc(ctx, o->names, const char *, o->n_names + 1);
		if (o->names == NULL)
			return -ENOMEM;
		o->names[o->n_names++] = arg;
		return 0;
	}
	return -EINVAL;
}

/* Options before the command (--dir, --help, --version) and after it (all that the
 * command takes, --dir again). 0, 1 when --help or --version has answered, or
 * -EINVAL after a message. */
static int parse_args(TALLOC_CTX *ctx, int argc, char **argv, struct certs_opts *o,
		      const struct command **cmd)
{
	unsigned seen = 0;
	int c;

	*o = (struct certs_opts){.dir = CERTS_DEFAULT_DIR, .days = -1, .warn_days = -1};
	while ((c = getopt_long(argc, argv, "+d:hV", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf(CERTS_PROG " (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 1;
		}
		if (c != 'd') {
			if (c != '?')
				certs_fail("--%s goes after the command", opt_name(c));
			return -EINVAL;
		}
		if (set_option(ctx, o, c, optarg) < 0)
			return -EINVAL;
	}
	if (optind == argc) {
		certs_fail("no command given");
		return -EINVAL;
	}
	*cmd = find_command(argv[optind]);
	if (*cmd == NULL) {
		certs_fail("unknown command '%s'", argv[optind]);
		return -EINVAL;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* glibc: start over on the command's own arguments */
	while ((c = getopt_long(argc, argv, "d:fh", longopts, NULL)) != -1) {
		unsigned bit = c == 'f' ? O_FORCE : c == 'd' ? O_DIR : (unsigned)c;

		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == '?' || c == 'V')
			return -EINVAL;
		if (bit != O_DIR && !((*cmd)->opts & bit)) {
			certs_fail("%s does not take --%s", (*cmd)->name, opt_name(c));
			return -EINVAL;
		}
		seen |= bit;
		if (set_option(ctx, o, c, optarg) < 0)
			return -EINVAL;
	}
	if ((seen & O_BITS) && o->key_type != CERTS_KEY_RSA) {
		certs_fail("--bits goes with --key-type rsa");
		return -EINVAL;
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	if (o->argc < (*cmd)->min_args || o->argc > (*cmd)->max_args) {
		certs_fail("%s: %s arguments; usage: %s %s", (*cmd)->name,
			   o->argc < (*cmd)->min_args ? "too few" : "too many", (*cmd)->name,
			   (*cmd)->synopsis);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const struct command *cmd;
	struct certs_opts o;
	int ret;

	if (ctx == NULL)
		return CERTS_EXIT_ERROR;
	ret = parse_args(ctx, argc, argv, &o, &cmd);
	if (ret != 0) {
		if (ret < 0)
			fputs("Try '" CERTS_PROG " --help' for more information.\n", stderr);
		talloc_free(ctx);
		return ret < 0 ? CERTS_EXIT_USAGE : CERTS_EXIT_OK;
	}
	ret = gnutls_global_init();
	if (ret < 0) {
		certs_fail("cannot initialise GnuTLS: %s", gnutls_strerror(ret));
		talloc_free(ctx);
		return CERTS_EXIT_ERROR;
	}
	ret = cmd->run(ctx, &o);
	talloc_free(ctx);
	gnutls_global_deinit();
	return ret;
}
