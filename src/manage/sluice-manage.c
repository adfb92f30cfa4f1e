/* sluice-manage: the management API (and, from the same listener, the web dashboard).
 * main starts it when manage-listen is set (src/main/manage.c) with fd 3 and fd 4 its
 * control connections (requests; the events stream), fd 5 the bound listener and, with
 * --audit, fd 6 the audit log opened read-only.
 * Start-up order, fixed: read the certificate, key, CA and grants as root; drop to
 * run-as-user, no-new-privs and limits; the seccomp filter (sandbox.c); only then
 * start threads and accept a connection. A change to any
 * of those files takes a restart, which main does on reload.
 *
 * Usage (by main): sluice-manage --uid UID --gid GID --cert PEM --key PEM
 *                  --access FILE [--ca PEM] [--audit] [--stderr] */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "manage/manage.h"
#include "worker/privdrop.h"

#define PEM_MAX (1024 * 1024)

static bool parse_id(const char *s, unsigned long *id)
{
	char *end;

	errno = 0;
	*id = strtoul(s ? s : "", &end, 10);
	return s && *s && !*end && !errno && *id > 0 && *id < 0xffffffffUL;
}

/* A PEM file as a NUL-terminated string, or NULL (logged). */
static char *read_pem(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;

	if (fd < 0) {
		log_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(PEM_MAX + 1);
	while (buf && got < PEM_MAX && (n = read(fd, buf + got, PEM_MAX - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (!buf || got == 0 || got >= PEM_MAX) {
		log_err("%s: empty, unreadable or larger than 1 MiB", path);
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	return buf;
}

static bool is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"uid", required_argument, NULL, 'u'},    {"gid", required_argument, NULL, 'g'},
	    {"cert", required_argument, NULL, 'c'},   {"key", required_argument, NULL, 'k'},
	    {"ca", required_argument, NULL, 'a'},     {"access", required_argument, NULL, 'x'},
	    {"stderr", no_argument, NULL, 'e'},       {"audit", no_argument, NULL, 'A'},
	    {NULL, 0, NULL, 0},
	};
	const char *uid_s = NULL, *gid_s = NULL, *cert = NULL, *key = NULL, *ca = NULL,
		   *access_path = NULL;
	struct http_config hc = {.listen_fd = MANAGE_LISTEN_FD};
	struct manage_access *grants = NULL;
	unsigned long uid, gid;
	bool to_stderr = false, audit = false;
	char err[512];
	sigset_t sigs;
	int c, sig, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': uid_s = optarg; break;
		case 'g': gid_s = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': ca = optarg; break;
		case 'x': access_path = optarg; break;
		case 'e': to_stderr = true; break;
		case 'A': audit = true; break;
		default: return 2;
		}
	}
	log_init("sluice-manage", to_stderr, LOG_INFO);
	if (!parse_id(uid_s, &uid) || !parse_id(gid_s, &gid) || !cert || !key || !access_path ||
	    optind != argc || !is_socket(MANAGE_REQ_FD) || !is_socket(MANAGE_EVENTS_FD) ||
	    !is_socket(MANAGE_LISTEN_FD) || (audit && fcntl(MANAGE_AUDIT_FD, F_GETFD) < 0)) {
		log_err("usage: sluice-manage --uid UID --gid GID --cert PEM --key PEM --access FILE "
			"[--ca PEM] [--audit] [--stderr], with fds %d-%d from sluiced (and %d with "
			"--audit: the audit log; sluiced starts it when manage-listen is set)",
			MANAGE_REQ_FD, MANAGE_LISTEN_FD, MANAGE_AUDIT_FD);
		return 2;
	}
	/* Root's files, while root. */
	hc.cert_pem = read_pem(cert);
	hc.key_pem = read_pem(key);
	hc.ca_pem = ca ? read_pem(ca) : NULL;
	if (!hc.cert_pem || !hc.key_pem || (ca && !hc.ca_pem))
		return 1;
	if (manage_access_load(NULL, access_path, &grants, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	hc.access = grants;
	ret = privdrop((uid_t)uid, (gid_t)gid);
	if (ret == 0)
		ret = template_limits();
	if (ret < 0) {
		log_err("cannot drop privileges to uid %lu gid %lu: %s", uid, gid, strerror(-ret));
		return 1;
	}
	/* Every thread inherits this mask: the signals come to sigwait() below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	backend_init(MANAGE_REQ_FD);
	history_init(audit ? MANAGE_AUDIT_FD : -1);
	/* Before the filter: glibc reads the time zone for the log's timestamps once. */
	tzset();
	ret = manage_sandbox_install();
	if (ret < 0) {
		log_err("cannot install the seccomp filter: %s", strerror(-ret));
		return 1;
	}
	if (stream_start(MANAGE_EVENTS_FD) < 0 || http_start(&hc) < 0)
		return 1;
	log_notice("serving the management API (%zu grant%s)", grants->n,
		   grants->n == 1 ? "" : "s");
	sigwait(&sigs, &sig);
	http_stop();
	return 0;
}
