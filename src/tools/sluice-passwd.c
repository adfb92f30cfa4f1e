/* sluice-passwd: adds, changes, deletes, locks and unlocks users of a password file in
 * the ocpasswd format, with the options of ocpasswd where they overlap; and sets a
 * user's groups alone (-G) or lists the users (-L), which ocpasswd cannot. sluiced runs
 * it for the management API's account changes. */
#include "config.h"
#include "common/passwd.h"
#include "tools/tool_file.h"
#include "tools/tty_password.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PASSWD_FILE "/etc/sluice/passwd"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

enum action { ACT_SET, ACT_DELETE, ACT_LOCK, ACT_UNLOCK, ACT_GROUPS, ACT_LIST };

struct opts {
	const char *path;
	const char *groups; /* NULL: keep (or "*" for a new user) */
	enum action action;
	const char *user;
};

struct outbuf {
	char *data;
	size_t len;
	size_t cap;
};

struct edit {
	TALLOC_CTX *ctx;
	const struct opts *o;
	const struct passwd_entry *wanted; /* user and groups from the command line */
	const char *hash;                  /* new hash for ACT_SET */
	struct outbuf out;
	unsigned found_line;
	unsigned dup_line;
	bool was_locked;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sluice-passwd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: sluice-passwd [-c FILE] [-g GROUP[,GROUP...]] [-d | -l | -u] USERNAME\n"
		   "       sluice-passwd [-c FILE] -G GROUP[,GROUP...]|* USERNAME\n"
		   "       sluice-passwd [-c FILE] -L\n"
		   "\n"
		   "Without -d, -l, -u or -G, adds USERNAME or changes its password. The password\n"
		   "is read twice from the terminal, or as one line from standard input.\n"
		   "\n"
		   "  -c, --passwd=FILE       password file (default " DEFAULT_PASSWD_FILE ")\n"
		   "  -g, --groupname=GROUPS  set the user's groups (comma separated)\n"
		   "  -G, --set-groups=GROUPS set an existing user's groups and nothing else\n"
		   "                          (* for none)\n"
		   "  -d, --delete            delete the user\n"
		   "  -l, --lock              lock the user\n"
		   "  -u, --unlock            unlock the user\n"
		   "  -L, --list              list the users, one line each: NAME:GROUPS:locked\n"
		   "                          or NAME:GROUPS:active (no hashes)\n"
		   "  -h, --help              show this help and exit\n"
		   "  -v, --version           show the version and exit\n"
		   "\n"
		   "Exit status: 0 success, 1 error, 2 usage error.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"passwd", required_argument, NULL, 'c'}, {"groupname", required_argument, NULL, 'g'},
	    {"delete", no_argument, NULL, 'd'},       {"lock", no_argument, NULL, 'l'},
	    {"unlock", no_argument, NULL, 'u'},       {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'v'},      {"set-groups", required_argument, NULL, 'G'},
	    {"list", no_argument, NULL, 'L'},         {NULL, 0, NULL, 0},
	};
	int c, n_actions = 0;

	o->path = DEFAULT_PASSWD_FILE;
	o->action = ACT_SET;
	while ((c = getopt_long(argc, argv, "c:g:G:dluLhv", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->path = optarg;
			break;
		case 'g':
			o->groups = optarg;
			break;
		case 'd':
			o->action = ACT_DELETE;
			n_actions++;
			break;
		case 'l':
			o->action = ACT_LOCK;
			n_actions++;
			break;
		case 'u':
			o->action = ACT_UNLOCK;
			n_actions++;
			break;
		case 'G':
			o->action = ACT_GROUPS;
			o->groups = optarg;
			n_actions++;
			break;
		case 'L':
			o->action = ACT_LIST;
			n_actions++;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'v':
			printf("sluice-passwd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			exit(EXIT_OK);
		default:
			return -EINVAL;
		}
	}
	if (n_actions > 1) {
		fail("-d, -l, -u, -G and -L exclude each other");
		return -EINVAL;
	}
	if (n_actions == 1 && o->groups != NULL && o->action != ACT_GROUPS) {
		fail("-g only goes with adding a user or changing a password");
		return -EINVAL;
	}
	if (o->action == ACT_LIST && optind != argc) {
		fail("-L takes no user name");
		return -EINVAL;
	}
	if (o->action != ACT_LIST && optind != argc - 1) {
		fail(optind == argc ? "no user name given" : "more than one user name given");
		return -EINVAL;
	}
	if (o->path[0] == '\0') {
		fail("empty file name");
		return -EINVAL;
	}
	o->user = o->action == ACT_LIST ? "" : argv[optind];
	return 0;
}

/* yescrypt where libcrypt has it, SHA-512-crypt otherwise; the library draws the salt
 * from getrandom(). */
static int make_hash(const char *pw, char *out, size_t outlen)
{
	static const char *const methods[] = {"$y$", "$6$"};
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = talloc_zero(NULL, struct crypt_data);
	const char *res;
	int ret = -ENOSYS;

	if (cd == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]) && ret < 0; i++) {
		if (crypt_gensalt_rn(methods[i], 0, NULL, 0, setting, sizeof(setting)) == NULL)
			continue;
		res = crypt_rn(pw, setting, cd, sizeof(*cd));
		if (res == NULL || res[0] == '*' || strlen(res) >= outlen)
			continue;
		strcpy(out, res);
		ret = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	talloc_free(cd);
	if (ret < 0)
		fail("libcrypt offers neither yescrypt nor SHA-512-crypt");
	return ret;
}

static int out_append(struct edit *ed, const char *s, size_t len)
{
	struct outbuf *b = &ed->out;
	char *bigger;

	if (len > PASSWD_MAX_FILE || b->len + len > PASSWD_MAX_FILE)
		return -EFBIG;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len)
			cap *= 2;
		bigger = talloc_realloc_size(ed->ctx, b->data, cap);
		if (bigger == NULL)
			return -ENOMEM;
		b->data = bigger;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	return 0;
}

static int out_entry(struct edit *ed, const struct passwd_entry *e)
{
	char *line;
	int ret;

	line = talloc_asprintf(ed->ctx, "%s:", e->user);
	for (size_t i = 0; line != NULL && i < e->n_groups; i++)
		line = talloc_asprintf_append(line, "%s%s", i ? "," : "", e->groups[i]);
	if (line != NULL)
		line = talloc_asprintf_append(line, "%s:%s%s\n", e->n_groups ? "" : "*",
					      e->locked ? "!" : "", e->hash);
	if (line == NULL)
		return -ENOMEM;
	ret = out_append(ed, line, strlen(line));
	talloc_free(line);
	return ret;
}

static int edit_on_line(void *arg, unsigned lineno, const char *line, size_t len, const char *user,
			size_t user_len)
{
	struct edit *ed = arg;
	struct passwd_entry e;
	int ret;

	if (user == NULL || user_len != strlen(ed->o->user) ||
	    memcmp(user, ed->o->user, user_len) != 0) {
		ret = out_append(ed, line, len);
		return ret < 0 ? ret : out_append(ed, "\n", 1);
	}
	if (ed->found_line != 0) {
		ed->dup_line = lineno;
		return -EEXIST;
	}
	ed->found_line = lineno;
	ret = passwd_parse_line(ed->ctx, line, len, &e);
	if (ret < 0)
		return ret;
	ed->was_locked = e.locked;
	switch (ed->o->action) {
	case ACT_DELETE:
		return 0;
	case ACT_LOCK:
		e.locked = true;
		break;
	case ACT_UNLOCK:
		e.locked = false;
		break;
	case ACT_SET:
		e.hash = (char *)ed->hash;
		/* -g with a password sets the groups as -G does */
		__attribute__((fallthrough));
	case ACT_GROUPS:
		if (ed->o->groups != NULL) {
			e.groups = ed->wanted->groups;
			e.n_groups = ed->wanted->n_groups;
		}
		break;
	case ACT_LIST:
		break;
	}
	return out_entry(ed, &e);
}

/* Readers (the sec module, ocserv) see either the old or the new file, never half. */
static int replace_file(const char *path, const struct outbuf *b, const struct stat *st)
{
	struct tool_file_meta meta = {.mode = st->st_mode, .uid = st->st_uid, .gid = st->st_gid};

	return tool_write_file("sluice-passwd", path, b->data, b->len, &meta);
}

/* Works on the target of a symbolic link, so that the link survives the rename. */
static char *real_path(TALLOC_CTX *ctx, const char *path)
{
	char resolved[PATH_MAX];

	if (realpath(path, resolved) != NULL)
		return talloc_strdup(ctx, resolved);
	return talloc_strdup(ctx, path);
}

/* A path that names no file to edit gets no lock file made beside it. */
static int check_target(const struct edit *ed, const char *path)
{
	struct stat st;
	int ret;

	if (stat(path, &st) < 0) {
		ret = -errno;
		if (ret == -ENOENT && ed->o->action == ACT_SET)
			return 0;
		fail("%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		fail("%s: not a regular file", path);
		return -EINVAL;
	}
	return 0;
}

static int load_file(struct edit *ed, const char *path, char **buf, size_t *len, struct stat *st)
{
	char err[PATH_MAX + 256];
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT && ed->o->action == ACT_SET) {
		*buf = NULL;
		*len = 0;
		st->st_mode = S_IFREG | 0600;
		st->st_uid = geteuid();
		st->st_gid = getegid();
		return 0;
	}
	if (fd < 0) {
		ret = -errno;
		fail("%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = passwd_read_fd(ed->ctx, fd, path, buf, len, err, sizeof(err));
	if (ret == 0 && fstat(fd, st) < 0)
		ret = -errno;
	close(fd);
	if (ret < 0)
		fail("%s", err);
	return ret;
}

static int update(const struct opts *o, const struct passwd_entry *wanted, const char *hash)
{
	struct edit ed = {.o = o, .wanted = wanted, .hash = hash};
	char err[PATH_MAX + 256];
	char *path, *lock_path, *buf;
	size_t len;
	struct stat st;
	int ret;

	ed.ctx = talloc_new(NULL);
	if (ed.ctx == NULL)
		return -ENOMEM;
	path = real_path(ed.ctx, o->path);
	ret = path ? check_target(&ed, path) : -ENOMEM;
	if (ret < 0)
		goto out;
	lock_path = talloc_asprintf(ed.ctx, "%s.lock", path);
	ret = lock_path ? tool_lock("sluice-passwd", lock_path) : -ENOMEM;
	if (ret < 0)
		goto out;
	ret = load_file(&ed, path, &buf, &len, &st);
	if (ret < 0)
		goto out;
	ret = passwd_scan(path, buf, len, edit_on_line, &ed, err, sizeof(err));
	if (ret == -EEXIST)
		fail("%s:%u: user '%s' listed again (first on line %u); fix the file by hand", path,
		     ed.dup_line, o->user, ed.found_line);
	else if (ret == -EINVAL)
		fail("%s", err);
	else if (ret == -EFBIG)
		fail("%s: would grow beyond %u bytes", path, PASSWD_MAX_FILE);
	else if (ret < 0)
		fail("%s: %s", path, strerror(-ret));
	if (ret < 0)
		goto out;

	if (ed.found_line == 0 && o->action != ACT_SET) {
		fail("%s: no user '%s'", path, o->user);
		ret = -ENOENT;
		goto out;
	}
	if (ed.found_line == 0) {
		struct passwd_entry e = *wanted;

		e.hash = (char *)hash;
		ret = out_entry(&ed, &e);
		if (ret < 0) {
			fail("%s: %s", path, strerror(-ret));
			goto out;
		}
	}
	if (buf != NULL && ed.out.len == len && memcmp(ed.out.data, buf, len) == 0)
		goto out; /* e.g. locking a locked user: leave the file alone */
	ret = replace_file(path, &ed.out, &st);
	if (ret == 0 && o->action == ACT_SET && ed.was_locked)
		fprintf(stderr, "sluice-passwd: note: '%s' stays locked; unlock with -u\n",
			o->user);
out:
	talloc_free(ed.ctx);
	return ret;
}

/* -L: every user with groups and state, never a hash. */
static int list_on_line(void *arg, unsigned lineno, const char *line, size_t len, const char *user,
			size_t user_len)
{
	struct passwd_entry e;

	if (user == NULL)
		return 0;
	if (passwd_parse_line(arg, line, len, &e) < 0)
		return -ENOMEM;
	printf("%s:", e.user);
	for (size_t i = 0; i < e.n_groups; i++)
		printf("%s%s", i ? "," : "", e.groups[i]);
	printf(":%s\n", e.locked ? "locked" : "active");
	return 0;
}

static int list_users(const struct opts *o)
{
	struct edit ed = {.o = o};
	char err[PATH_MAX + 256], *buf;
	size_t len;
	struct stat st;
	int ret;

	ed.ctx = talloc_new(NULL);
	if (ed.ctx == NULL)
		return -ENOMEM;
	ret = load_file(&ed, o->path, &buf, &len, &st);
	if (ret == 0 && (ret = passwd_scan(o->path, buf, len, list_on_line, ed.ctx, err,
					   sizeof(err))) == -EINVAL)
		fail("%s", err);
	if (fflush(stdout) != 0 && ret == 0)
		ret = -EIO;
	talloc_free(ed.ctx);
	return ret;
}

int main(int argc, char **argv)
{
	static char pw[PASSWD_MAX_PASSWORD + 1], again[PASSWD_MAX_PASSWORD + 1];
	char hash[CRYPT_OUTPUT_SIZE] = "x";
	struct opts o = {0};
	struct passwd_entry wanted;
	TALLOC_CTX *ctx;
	char *probe;
	const char *why;
	int ret;

	if (parse_args(argc, argv, &o) < 0) {
		fputs("Try 'sluice-passwd --help' for more information.\n", stderr);
		return EXIT_USAGE;
	}
	if (o.action == ACT_LIST)
		return list_users(&o) < 0 ? EXIT_ERROR : EXIT_OK;
	if (strchr(o.user, ':') != NULL || (o.groups != NULL && strchr(o.groups, ':') != NULL)) {
		fail("user and group names must not contain ':'");
		return EXIT_USAGE;
	}
	ctx = talloc_new(NULL);
	/* The names are checked by the parser that will read them back. */
	probe = talloc_asprintf(ctx, "%s:%s:x", o.user, o.groups ? o.groups : "*");
	if (probe == NULL) {
		fail("out of memory");
		return EXIT_ERROR;
	}
	why = passwd_check_line(probe, strlen(probe));
	if (why != NULL) {
		fail("invalid user or group name: %s", why);
		talloc_free(ctx);
		return EXIT_USAGE;
	}
	if (passwd_parse_line(ctx, probe, strlen(probe), &wanted) < 0) {
		fail("out of memory");
		talloc_free(ctx);
		return EXIT_ERROR;
	}

	if (o.action == ACT_SET) {
		ret =
		    tty_password_get("sluice-passwd", "Enter password: ", "Re-enter password: ", pw,
				     again, sizeof(pw));
		if (ret == 0)
			ret = make_hash(pw, hash, sizeof(hash));
		explicit_bzero(pw, sizeof(pw));
		explicit_bzero(again, sizeof(again));
		if (ret < 0) {
			talloc_free(ctx);
			return EXIT_ERROR;
		}
	}
	ret = update(&o, &wanted, hash);
	talloc_free(ctx);
	return ret < 0 ? EXIT_ERROR : EXIT_OK;
}
