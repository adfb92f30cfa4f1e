/* sluiced: command line, configuration, start-up of sec, then main's event loop. */
#include "config.h"

#include "main/main.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/otpfile.h"
#include "ipc/main_sec.pb-c.h"
#include "main/audit.h"
#include "main/groups.h"
#include "main/listeners.h"
#include "main/profile.h"
#include "main/reload.h"
#include "main/server_cert.h"

#include "sec/sec.h"

#define SEC_START_TIMEOUT_MS 60000
/* MS_SEC_READY carries at most a token's certificate. */
#define SEC_READY_MAX_PAYLOAD (SEC_TOKEN_CERT_MAX + 1024)

/* Fixed, whatever the build prefix: these are the paths the documentation names. */
#define DEFAULT_CONFIG    "/etc/sluice/sluiced.conf"
#define DEFAULT_STATE_DIR "/var/lib/sluice"

static void print_problem(void *data, const char *problem)
{
	fprintf(stderr, "%s\n", problem);
}

static void warn_otp_line(void *data, const char *problem)
{
	log_warn("OTP file: %s (the line is skipped; its user cannot log in)", problem);
}

/* plain[otp=FILE]: each line of the users file sec's helper cannot use, by file and
 * line; for sluiced -t an error, at start-up a warning (the file changes at run time,
 * and the helper logs them again at each code). -1 when the file cannot be read. */
static int check_otp_file(const struct sluice_config *cfg, bool test)
{
	char err[PATH_MAX + 128];
	int n;

	if (!cfg->otp_file)
		return 0;
	n = otpfile_check(cfg->otp_file, test ? print_problem : warn_otp_line, NULL, err,
			  sizeof(err));
	if (n < 0) {
		if (test)
			fprintf(stderr, "%s: key 'auth': OTP file %s\n", cfg->file, err);
		else
			log_err("%s: key 'auth': OTP file %s", cfg->file, err);
		return -1;
	}
	return n;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: sluiced [OPTIONS]\n"
		     "OpenConnect (AnyConnect-compatible) VPN server.\n\n"
		     "  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ";\n"
		     "                       when it does not exist, a built-in default is used)\n"
		     "  -f, --foreground     stay in the foreground and log to stderr\n"
		     "  -t, --test-config    check the configuration and exit (0: valid, 1: not)\n"
		     "  -d, --debug          log debug messages\n"
		     "      --dump-config    print the effective configuration and exit\n"
		     "      --help-config    describe every configuration key and exit\n"
		     "  -h, --help           this help\n"
		     "  -v, --version        print the version\n");
}

/* Finds one of sluice's programs: beside this executable (so a build tree runs without
 * installing), else in the directory it is installed in. */
static char *find_program(TALLOC_CTX *ctx, const char *name, const char *installed)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *path;

		self[n] = '\0';
		path = talloc_asprintf(ctx, "%s/%s", dirname(self), name);
		if (path && access(path, X_OK) == 0)
			return path;
		talloc_free(path);
	}
	return talloc_asprintf(ctx, "%s/%s", installed, name);
}

static int write_pem(const char *path, mode_t mode, const gnutls_datum_t *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, d->data, d->size);
	if (n != (ssize_t)d->size || fsync(fd) < 0) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* The built-in configuration's self-signed ECDSA certificate. Generated in a child
 * process, so that main's memory never holds the private key. */
static int generate_certificate(const struct sluice_config *cfg)
{
	pid_t pid;
	int status;

	if (access(cfg->server_cert, F_OK) == 0 && access(cfg->server_key, F_OK) == 0)
		return 0;
	log_notice("generating a self-signed certificate in %s", cfg->state_dir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		gnutls_x509_privkey_t key;
		gnutls_x509_crt_t crt;
		gnutls_datum_t kpem = {0}, cpem = {0};
		char host[256] = "localhost";
		unsigned char serial[16];
		time_t now = time(NULL);
		int ok;

		gethostname(host, sizeof(host) - 1);
		gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
		serial[0] &= 0x7f;
		ok = gnutls_x509_privkey_init(&key) >= 0 &&
		     gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
						  0) >= 0 &&
		     gnutls_x509_crt_init(&crt) >= 0 && gnutls_x509_crt_set_version(crt, 3) >= 0 &&
		     gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) >= 0 &&
		     gnutls_x509_crt_set_activation_time(crt, now - 3600) >= 0 &&
		     gnutls_x509_crt_set_expiration_time(crt, now + 10L * 365 * 86400) >= 0 &&
		     gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
						   (unsigned)strlen(host)) >= 0 &&
		     gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
							  (unsigned)strlen(host),
							  GNUTLS_FSAN_SET) >= 0 &&
		     gnutls_x509_crt_set_key(crt, key) >= 0 &&
		     gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) >= 0 &&
		     gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) >= 0 &&
		     gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) >= 0 &&
		     gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem) >= 0 &&
		     gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem) >= 0 &&
		     write_pem(cfg->server_key, 0600, &kpem) == 0 &&
		     write_pem(cfg->server_cert, 0644, &cpem) == 0;
		_exit(ok ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	return 0;
}

static struct sluice_config *load_config(TALLOC_CTX *ctx, const char *path, bool explicit_path,
					 bool plain_errors)
{
	char err[512] = "";
	struct sluice_config *cfg;

	if (!explicit_path && access(path, F_OK) != 0 && errno == ENOENT) {
		cfg = config_builtin(ctx, DEFAULT_STATE_DIR, err, sizeof(err));
		if (cfg)
			log_notice("%s does not exist: using the built-in default configuration "
				   "(state in %s, users in %s)",
				   path, cfg->state_dir, cfg->passwd_file);
	} else if (plain_errors) {
		/* sluiced -t prints every problem as "FILE:LINE: key 'NAME': ..." and
		 * nothing else. */
		return config_load_report(ctx, path, print_problem, NULL);
	} else {
		cfg = config_load(ctx, path, err, sizeof(err));
	}
	if (!cfg && plain_errors)
		fprintf(stderr, "%s\n", err);
	else if (!cfg)
		log_err("%s", err);
	return cfg;
}

static int start_sec(struct main_ctx *m)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(sp[0]);
		fcntl(sp[1], F_SETFL, O_NONBLOCK);
		sec_run(m->cfg, m->cert_pem, m->cert_pem_len, sp[1]);
	}
	close(sp[1]);
	m->sec_pid = pid;
	m->sec_ch.fd = sp[0];
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* systemd and most shells start services with a soft limit of 1024 descriptors, which
 * main reaches at a few hundred clients; the hard limit is what the administrator allows.
 * sec, the worker template and scripts inherit it; workers lower their own. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	unsigned long long was;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("file descriptor limit: %s", strerror(errno));
		return;
	}
	was = (unsigned long long)rl.rlim_cur;
	if (rl.rlim_cur == rl.rlim_max) {
		log_info("file descriptor limit: %llu", was);
		return;
	}
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the file descriptor limit from %llu to %llu: %s", was,
			 (unsigned long long)rl.rlim_max, strerror(errno));
	else
		log_info("file descriptor limit raised from %llu to %llu", was,
			 (unsigned long long)rl.rlim_max);
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}

/* sluiced -t: the warnings about server-cert (not errors: the file was readable). */
static void check_cert_file(const struct sluice_config *c)
{
	gnutls_datum_t pem;

	/* One in a token is checked when sec has read it, at start-up. */
	if (config_in_token(c->server_cert) || gnutls_load_file(c->server_cert, &pem) < 0)
		return;
	main_server_cert_check((const char *)pem.data, pem.size, c);
	gnutls_free(pem.data);
}

/* server-cert from its file, for workers. */
static int read_cert_file(struct main_ctx *m)
{
	gnutls_datum_t pem;
	int ret = gnutls_load_file(m->cfg->server_cert, &pem);

	if (ret < 0) {
		log_err("server-cert %s: %s", m->cfg->server_cert, gnutls_strerror(ret));
		return -EIO;
	}
	m->cert_pem = talloc_memdup(m, pem.data, pem.size);
	m->cert_pem_len = pem.size;
	gnutls_free(pem.data);
	return m->cert_pem ? 0 : -ENOMEM;
}

/* sluiced -t: user-profile as main would read it. 0 or 1 problem. */
static unsigned check_profile(const struct sluice_config *c)
{
	const struct config_key *key = config_key_find("user-profile");
	unsigned line = c->key_lines ? c->key_lines[key - config_keys] : 0;
	char err[400];
	struct main_profile *p;

	if (!c->user_profile)
		return 0;
	p = main_profile_read(NULL, c->user_profile, err, sizeof(err));
	if (!p)
		fprintf(stderr, "%s:%u: key 'user-profile': %s\n", c->file, line, err);
	talloc_free(p);
	return p ? 0 : 1;
}

/* The warnings about the certificate, and the OCSP response that must be its. */
static int check_cert(struct main_ctx *m, char *err, size_t errlen)
{
	main_server_cert_check(m->cert_pem, m->cert_pem_len, m->cfg);
	return main_load_ocsp(m, m->cfg, m->cert_pem, m->cert_pem_len, err, errlen);
}

/* sec's word that it loaded the key (and checked it against the certificate); its own
 * log line says why when it did not. A token may take a while to answer. A certificate in
 * a token comes with it. */
static int wait_sec_ready(struct main_ctx *m)
{
	MsSecReady *ready = NULL;
	int ret = ipc_recv_expect(m->sec_ch.fd, MS_TYPE__MS_SEC_READY, &ms_sec_ready__descriptor,
				  SEC_READY_MAX_PAYLOAD, m, (void **)&ready, NULL, 0,
				  SEC_START_TIMEOUT_MS);

	if (ret < 0) {
		log_err("sec did not start (%s); exiting",
			ret == -ETIMEDOUT ? "no answer" : "it ended, see above");
		kill(m->sec_pid, SIGTERM);
		return ret;
	}
	if (config_in_token(m->cfg->server_cert)) {
		if (!ready->has_cert_pem || !ready->cert_pem.len) {
			log_err("sec did not send server-cert %s; exiting", m->cfg->server_cert);
			kill(m->sec_pid, SIGTERM);
			talloc_free(ready);
			return -EBADMSG;
		}
		m->cert_pem = talloc_memdup(m, ready->cert_pem.data, ready->cert_pem.len);
		m->cert_pem_len = ready->cert_pem.len;
	}
	talloc_free(ready);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"test-config", no_argument, NULL, 't'},
	    {"debug", no_argument, NULL, 'd'},
	    {"dump-config", no_argument, NULL, 'D'},
	    {"help-config", no_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG;
	bool explicit_path = false, foreground = false, test = false, debug = false, dump = false;
	struct main_ctx *m = talloc_zero(NULL, struct main_ctx);
	char err[512] = "";
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:ftdhv", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			explicit_path = true;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			test = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'D':
			dump = true;
			break;
		case 'H':
			config_print_schema(stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("sluiced %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	log_init("sluiced", foreground || test || dump, debug ? LOG_DEBUG : LOG_INFO);
	m->cfg = load_config(m, path, explicit_path, test || dump);
	if (!m->cfg)
		return 1;
	for (size_t i = 0; i < m->cfg->n_warnings; i++)
		log_warn("%s", m->cfg->warnings[i]);
	if (dump) {
		config_dump(m->cfg, stdout);
		return 0;
	}
	if (test) {
		/* Every problem in one run: the system's, every per-user and per-group
		 * file's, the OTP file's. */
		unsigned bad = config_check_system_report(m->cfg, print_problem, NULL);

		bad += config_check_user_files(m->cfg, print_problem, NULL);
		bad += check_otp_file(m->cfg, true) != 0;
		bad += check_profile(m->cfg);
		if (bad)
			return 1;
		check_cert_file(m->cfg);
		printf("%s: configuration is valid\n", m->cfg->file);
		return 0;
	}
	log_init("sluiced", foreground, debug ? LOG_DEBUG : m->cfg->log_level);
	m->debug = debug;
	m->foreground = foreground;
	if (geteuid() != 0) {
		log_err("sluiced must run as root (it creates TUN devices and drops privileges "
			"per client)");
		return 1;
	}
	if (strcmp(m->cfg->file, "(built-in)") == 0) {
		if (mkdir(m->cfg->state_dir, 0700) < 0 && errno != EEXIST) {
			log_err("state directory %s: %s", m->cfg->state_dir, strerror(errno));
			return 1;
		}
		if (generate_certificate(m->cfg) < 0) {
			log_err("cannot create a certificate in %s", m->cfg->state_dir);
			return 1;
		}
	}
	if (config_check_system(m->cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	/* Not fatal: a broken file refuses only its own users' logins. */
	config_check_user_files(m->cfg, main_warn_user_file, NULL);
	if (check_otp_file(m->cfg, false) < 0)
		return 1;
	if (strcmp(m->cfg->file, "(built-in)") != 0)
		m->config_path = talloc_strdup(m, path);
	m->worker_path = m->cfg->worker_path ? talloc_strdup(m, m->cfg->worker_path)
						 : find_program(m, "sluice-worker", LIBEXECDIR);
	m->passwd_tool = find_program(m, "sluice-passwd", BINDIR);
	if (access(m->worker_path, X_OK) != 0) {
		log_err("worker program %s: %s", m->worker_path, strerror(errno));
		return 1;
	}
	/* A certificate in a token comes from sec, once it has started. */
	if (!config_in_token(m->cfg->server_cert) && read_cert_file(m) < 0)
		return 1;
	if (main_pools_start(m) < 0)
		return 1;
	if (main_load_client_ca(m, m->cfg, err, sizeof(err)) < 0 ||
	    (m->cert_pem && check_cert(m, err, sizeof(err)) < 0) ||
	    main_profile_load(m, true, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	main_auto_groups_load(m);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if (!foreground && daemon(0, 0) < 0) {
		log_err("cannot go to the background: %s", strerror(errno));
		return 1;
	}
	/* sec is forked before any listener exists and before any network input. */
	if (start_sec(m) < 0) {
		log_err("cannot start sec: %s", strerror(errno));
		return 1;
	}
	/* Nothing listens before sec has the key: a bad key or PIN is a start-up error. */
	if (wait_sec_ready(m) < 0)
		return 1;
	if (config_in_token(m->cfg->server_cert) && check_cert(m, err, sizeof(err)) < 0) {
		log_err("%s", err);
		kill(m->sec_pid, SIGTERM);
		return 1;
	}
	if (m->cfg->worker_template && main_template_start(m) < 0)
		log_warn("cannot start the worker template; workers are exec'd");
	if (main_listen(m) < 0) {
		kill(m->sec_pid, SIGTERM);
		return 1;
	}
	if (m->cfg->pid_file && write_pid_file(m->cfg->pid_file) < 0)
		log_warn("pid-file %s: %s", m->cfg->pid_file, strerror(errno));
	ret = main_run(m);
	/* After the last session-end record of the shutdown. */
	audit_stop(m);
	if (ret < 0) {
		/* main_run() failed before its loop: nothing ends these but us. */
		kill(m->sec_pid, SIGTERM);
		main_templates_stop(m);
	}
	if (m->cfg->pid_file)
		unlink(m->cfg->pid_file);
	return ret < 0 || m->sec_failed ? 1 : 0;
}
