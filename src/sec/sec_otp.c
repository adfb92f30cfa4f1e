/* One-time passwords as a second factor (auth = "plain[passwd=FILE,otp=FILE]").
 *
 * sec forks an OTP helper before it loads the server key. The helper alone reads the
 * oath-toolkit users file (src/common/otpfile.h), checks codes with liboath, and writes
 * the used counter or time step back before it answers, so that a code is never
 * accepted twice, also across a restart. liboath's own oath_authenticate_usersfile()
 * is not used: it skips lines it does not understand without saying which, creates a
 * fixed-name lock file beside the users file, and does not fsync the directory after
 * its rename, so a crash can bring back the old file and with it a used code. Here the
 * new text goes to a temporary file of a random name in the same directory, which is
 * fsync'ed, renamed over the users file, and then the directory is fsync'ed.
 *
 * Keeping the file in a process of its own lets sec's seccomp filter go on refusing
 * every write and rename (a filter cannot tell one path from another), and keeps the
 * OTP secrets out of the process that holds the server key. sec waits for each verdict
 * (bounded): the check must be on disk before the login is accepted. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <liboath/oath.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/otpfile.h"
#include "ipc/sec_otp.pb-c.h"

/* Codes after the file's counter that a HOTP token may have generated unseen (ocserv's
 * window). */
#define OTP_HOTP_WINDOW 20
/* Time steps either side of now that a TOTP code may come from: a clock a minute off. */
#define OTP_TOTP_WINDOW 2
#define OTP_REPLY_TIMEOUT_MS 10000
#define OTP_MAX_PAYLOAD      16384
/* Bad lines named in one verdict; the rest are counted. */
#define OTP_MAX_PROBLEMS 16
/* The helper's end of its channel. */
#define OTP_FD 3

struct verdict {
	TALLOC_CTX *ctx;
	SoVerdict *v;
	unsigned more;
};

static void add_problem(struct verdict *vd, const char *text)
{
	char **grown = talloc_realloc(vd->ctx, vd->v->problems, char *, vd->v->n_problems + 1);

	if (!grown)
		return;
	vd->v->problems = grown;
	grown[vd->v->n_problems] = talloc_strdup(grown, text);
	if (grown[vd->v->n_problems])
		vd->v->n_problems++;
}

/* The first bad lines are named; the others only counted (add_problem says how many). */
static void collect_problem(void *data, const char *text)
{
	struct verdict *vd = data;

	if (vd->v->n_problems >= OTP_MAX_PROBLEMS - 1)
		vd->more++;
	else
		add_problem(vd, text);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replaces path's content by text: a temporary file in the same directory, fsync'ed,
 * renamed over path, then the directory fsync'ed, so that after a crash the file is
 * either the old or the new one, and the new one once this returns 0. The temporary
 * file takes the mode and (when allowed) the owner of the old one. */
static int write_atomically(struct verdict *vd, const char *path, const char *text,
			    size_t len, char *err, size_t errlen)
{
	char tmpname[PATH_MAX], dir[PATH_MAX];
	uint8_t rnd[8];
	struct stat st;
	int fd = -1, dfd, ret;

	if (stat(path, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		snprintf(err, errlen, "no random name for a temporary file");
		return -EIO;
	}
	if (snprintf(tmpname, sizeof(tmpname), "%s.sluice-%02x%02x%02x%02x%02x%02x%02x%02x", path,
		     rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
		     rnd[7]) >= (int)sizeof(tmpname) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", tmpname, strerror(errno));
		return ret;
	}
	if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) < 0) {
		char why[PATH_MAX + 96];

		/* Not fatal: the used code is what must be kept. */
		snprintf(why, sizeof(why), "%s: cannot keep its owner %u:%u (%s); it is now root's",
			 path, (unsigned)st.st_uid, (unsigned)st.st_gid, strerror(errno));
		collect_problem(vd, why);
	}
	if (fchmod(fd, st.st_mode & 07777) < 0 || write_all(fd, text, len) < 0 ||
	    fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", tmpname, strerror(-ret));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = -errno;
		snprintf(err, errlen, "%s: %s", tmpname, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmpname, path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "rename to %s: %s", path, strerror(errno));
		goto fail;
	}
	/* The rename is durable once the directory is. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: fsync of the directory: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return ret;
	}
	close(dfd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmpname);
	return ret;
}

/* liboath's timestamp: local time, "L" for local. */
static void local_stamp(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SL", &tm) != 20)
		snprintf(out, 32, "1970-01-01T00:00:00L");
}

/* Checks code for user against the file and records it as used. NULL when it passes,
 * else why not. */
static const char *otp_verify(struct verdict *vd, const char *path, const char *user,
			      const char *code)
{
	/* What goes wrong with the file is the server's fault, not the client's. */
#define FILE_ERROR(why) (vd->v->has_file_error = vd->v->file_error = true, (why))
	TALLOC_CTX *tmp = vd->ctx;
	struct otp_file *f = NULL;
	struct otp_entry *e;
	char err[PATH_MAX + 128], stamp[32];
	uint64_t used;
	size_t len;
	char *text;
	int rc;

	if (otpfile_read(tmp, path, &f, collect_problem, vd, err, sizeof(err)) < 0)
		return FILE_ERROR(talloc_asprintf(tmp, "OTP file: %s", err));
	e = otpfile_find(f, user);
	if (!e)
		return "no OTP token for this user";
	if (strlen(code) != e->digits || strspn(code, "0123456789") != e->digits)
		return "wrong one-time password";
	if (e->step == 0) {
		/* The counter is that of the last code used, once one was. */
		uint64_t start = e->counter + (e->last_otp ? 1 : 0);

		if (e->last_otp && e->counter == UINT64_MAX)
			return "the token's counter is exhausted";
		rc = oath_hotp_validate((const char *)e->secret, e->secret_len, start,
					OTP_HOTP_WINDOW, code);
		if (rc < 0)
			return rc == OATH_INVALID_OTP ? "wrong one-time password"
						      : oath_strerror(rc);
		used = start + (uint64_t)rc;
	} else {
		int pos;

		rc = oath_totp_validate3((const char *)e->secret, e->secret_len, time(NULL),
					 e->step, 0, OTP_TOTP_WINDOW, &pos, &used, code);
		if (rc < 0)
			return rc == OATH_INVALID_OTP ? "wrong one-time password"
						      : oath_strerror(rc);
		/* The counter is the time step of the last code used: only a later one
		 * passes. */
		if (e->last_otp && (used <= e->counter || strcmp(e->last_otp, code) == 0))
			return "one-time password already used";
	}
	local_stamp(stamp);
	e->counter = used;
	e->has_counter = true;
	e->last_otp = code;
	e->last_time = stamp;
	e->changed = true;
	text = otpfile_render(tmp, f, &len);
	if (!text)
		return FILE_ERROR("out of memory");
	if (len > OTPFILE_MAX_SIZE)
		return FILE_ERROR("the OTP file would grow past its size limit");
	rc = write_atomically(vd, path, text, len, err, sizeof(err));
	explicit_bzero(text, len);
	if (rc < 0)
		return FILE_ERROR(talloc_asprintf(tmp, "cannot record the code as used: %s", err));
	return NULL;
#undef FILE_ERROR
}

static void __attribute__((noreturn)) otp_helper_run(const char *path)
{
	for (;;) {
		TALLOC_CTX *tmp = talloc_new(NULL);
		SoVerdict v = SO_VERDICT__INIT;
		struct verdict vd = {tmp, &v, 0};
		SoCheck *req = NULL;
		const char *why;
		int ret = tmp ? ipc_recv_expect(OTP_FD, SO_TYPE__SO_CHECK, &so_check__descriptor,
						OTP_MAX_PAYLOAD, tmp, (void **)&req, NULL, 0, -1)
			      : -ENOMEM;

		if (ret == -ECONNRESET)
			_exit(0);
		if (ret < 0)
			_exit(1);
		why = otp_verify(&vd, path, req->username, req->code);
		explicit_bzero(req->code, strlen(req->code));
		if (vd.more) {
			char more[64];

			snprintf(more, sizeof(more), "... and %u more bad lines", vd.more);
			add_problem(&vd, more);
		}
		v.ok = why == NULL;
		v.reason = (char *)why;
		if (ipc_send(OTP_FD, SO_TYPE__SO_VERDICT, &v.base, NULL, 0) < 0)
			_exit(1);
		talloc_free(tmp);
	}
}

int sec_otp_start(struct sec_ctx *sec)
{
	int sv[2];
	pid_t pid;

	sec->otp_fd = -1;
	if (!sec->cfg->otp_file)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("OTP helper: socketpair: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		log_err("OTP helper: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -EAGAIN;
	}
	if (pid == 0) {
		/* It dies with sec, and keeps nothing of sec's but its channel. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(sv[1], OTP_FD) < 0 || close_range(OTP_FD + 1, ~0U, 0) < 0)
			_exit(1);
		/* What the filter would refuse later: the time zone (for the timestamps) and
		 * liboath's set-up. */
		tzset();
		if (oath_init() != OATH_OK || sec_otp_sandbox_install() < 0)
			_exit(1);
		otp_helper_run(sec->cfg->otp_file);
	}
	close(sv[1]);
	sec->otp_fd = sv[0];
	sec->otp_pid = pid;
	log_info("OTP helper started (pid %d) for %s", (int)pid, sec->cfg->otp_file);
	return 0;
}

const char *sec_otp_check(struct sec_ctx *sec, TALLOC_CTX *tmp, const char *user, const char *code)
{
	SoCheck req = SO_CHECK__INIT;
	SoVerdict *v = NULL;
	int ret;

	if (sec->otp_fd < 0)
		return SEC_OTP_FILE_ERROR;
	req.username = (char *)user;
	req.code = (char *)code;
	ret = ipc_send(sec->otp_fd, SO_TYPE__SO_CHECK, &req.base, NULL, 0);
	if (ret == 0)
		ret = ipc_recv_expect(sec->otp_fd, SO_TYPE__SO_VERDICT, &so_verdict__descriptor,
				      OTP_MAX_PAYLOAD, tmp, (void **)&v, NULL, 0,
				      OTP_REPLY_TIMEOUT_MS);
	if (ret < 0) {
		/* Its answer may still come: the channel would be out of step. Without the
		 * helper no code passes until sluiced restarts. */
		log_err("OTP helper (pid %d): %s; one-time passwords fail from now on",
			(int)sec->otp_pid, strerror(-ret));
		close(sec->otp_fd);
		sec->otp_fd = -1;
		return SEC_OTP_FILE_ERROR;
	}
	for (size_t i = 0; i < v->n_problems; i++)
		log_warn("OTP file: %s", v->problems[i]);
	if (v->ok)
		return NULL;
	if (v->file_error) {
		log_err("%s", v->reason ? v->reason : "OTP file error");
		return SEC_OTP_FILE_ERROR;
	}
	return v->reason ? talloc_strdup(tmp, v->reason) : "one-time password refused";
}
