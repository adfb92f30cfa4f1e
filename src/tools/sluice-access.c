/* sluice-access: grants and revokes access to the management API (manage-access).
 *
 *   sluice-access [-f FILE] token NAME read|admin   a new token for NAME, printed once
 *   sluice-access [-f FILE] cert 'COMMON NAME' read|admin
 *   sluice-access [-f FILE] remove NAME             a token or certificate grant
 *   sluice-access [-f FILE] list
 *
 * The file keeps only a token's SHA-256: the token itself exists on stdout once. Changes
 * reach a running sluiced at its next reload. */
#include "config.h"

#include "common/manage_access.h"
#include "tools/tool_file.h"

#include <errno.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_ACCESS_FILE "/etc/sluice/manage-access"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-access [-f FILE] token NAME read|admin\n"
		   "       sluice-access [-f FILE] cert COMMON-NAME read|admin\n"
		   "       sluice-access [-f FILE] remove NAME\n"
		   "       sluice-access [-f FILE] list\n"
		   "Grants access to sluiced's management API (manage-access, default %s).\n"
		   "  token NAME ROLE   a new bearer token for NAME (replacing its old one), "
		   "printed once\n"
		   "  cert CN ROLE      client certificates signed by manage-ca whose common name "
		   "is CN\n"
		   "  remove NAME       the token or certificate grant named NAME\n"
		   "  list              every grant, without the hashes\n"
		   "ROLE is read (status, lists, events) or admin (also disconnect, unban, reload).\n"
		   "sluiced applies a change at its next reload.\n",
		   DEFAULT_ACCESS_FILE);
}

/* The grants of path, or none when it does not exist yet. */
static int load(TALLOC_CTX *ctx, const char *path, struct manage_access **a)
{
	char err[512];
	int ret;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		*a = talloc_zero(ctx, struct manage_access);
		return *a ? 0 : -ENOMEM;
	}
	ret = manage_access_load(ctx, path, a, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "sluice-access: %s\n", err);
	return ret;
}

static int save(TALLOC_CTX *ctx, const char *path, const struct manage_access *a)
{
	const struct tool_file_meta meta = {.mode = 0600, .uid = 0, .gid = 0};
	char *text = talloc_strdup(ctx, "# sluiced's management API: see sluice-access(8)\n");

	for (size_t i = 0; text && i < a->n; i++)
		text = talloc_asprintf_append(text, "%s", manage_grant_line(ctx, &a->grants[i]));
	if (!text)
		return -ENOMEM;
	return tool_write_file("sluice-access", path, text, strlen(text), &meta);
}

/* Removes the grants named name of the given kind (both kinds when all); how many. */
static size_t drop(struct manage_access *a, const char *name, bool all,
		   enum manage_grant_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n;) {
		if (strcmp(a->grants[i].name, name) == 0 && (all || a->grants[i].kind == kind)) {
			memmove(&a->grants[i], &a->grants[i + 1],
				(a->n - i - 1) * sizeof(a->grants[0]));
			a->n--;
			n++;
		} else {
			i++;
		}
	}
	return n;
}

static int add(struct manage_access *a, struct manage_grant *g)
{
	struct manage_grant *n;

	if (a->n >= MANAGE_GRANTS_MAX) {
		fprintf(stderr, "sluice-access: the file holds %d grants already\n",
			MANAGE_GRANTS_MAX);
		return -ENOSPC;
	}
	n = talloc_realloc(a, a->grants, struct manage_grant, a->n + 1);
	if (!n)
		return -ENOMEM;
	a->grants = n;
	a->grants[a->n++] = *g;
	return 0;
}

static int grant(TALLOC_CTX *ctx, const char *path, struct manage_access *a, bool token,
		 const char *name, const char *role_word)
{
	struct manage_grant g = {.kind = token ? MANAGE_GRANT_TOKEN : MANAGE_GRANT_CERT};
	char tok[MANAGE_TOKEN_LEN + 1];
	char *line;
	struct manage_access *check;
	char err[256];

	g.role = manage_role_parse(role_word);
	if (g.role == MANAGE_ROLE_NONE) {
		fprintf(stderr, "sluice-access: the role must be read or admin, not '%s'\n",
			role_word);
		return EXIT_USAGE;
	}
	g.name = talloc_strdup(a, name);
	if (token && !manage_name_valid(name, strlen(name))) {
		fprintf(stderr, "sluice-access: a token's name is 1 to %d letters, digits, '.', "
				"'_', '-' or '@'\n",
			MANAGE_NAME_MAX);
		return EXIT_USAGE;
	}
	if (token && manage_token_new(tok, g.hash) < 0) {
		fprintf(stderr, "sluice-access: no random bytes for a token\n");
		return EXIT_ERROR;
	}
	/* The line must read back as written (a common name's characters, its length). */
	line = manage_grant_line(ctx, &g);
	if (!line || manage_access_parse(ctx, line, strlen(line), &check, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-access: cannot grant '%s': %s\n", name,
			line ? err + strlen("line 1: ") : "out of memory");
		return EXIT_USAGE;
	}
	drop(a, name, false, g.kind);
	if (add(a, &g) < 0 || save(ctx, path, a) < 0)
		return EXIT_ERROR;
	if (token) {
		printf("%s\n", tok);
		fprintf(stderr, "sluice-access: token '%s' (%s) saved in %s; it is shown only "
				"this once\n",
			name, role_word, path);
	}
	gnutls_memset(tok, 0, sizeof(tok));
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_ACCESS_FILE;
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct manage_access *a;
	int c, ret;
	char *lock;

	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};

	while ((c = getopt_long(argc, argv, "+f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	lock = talloc_asprintf(ctx, "%s.lock", path);
	umask(077);
	if (strcmp(argv[0], "list") != 0 && (!lock || tool_lock("sluice-access", lock) < 0))
		return EXIT_ERROR;
	if (load(ctx, path, &a) < 0)
		return EXIT_ERROR;
	if ((strcmp(argv[0], "token") == 0 || strcmp(argv[0], "cert") == 0) && argc == 3) {
		ret = grant(ctx, path, a, argv[0][0] == 't', argv[1], argv[2]);
	} else if (strcmp(argv[0], "remove") == 0 && argc == 2) {
		if (!drop(a, argv[1], true, MANAGE_GRANT_TOKEN)) {
			fprintf(stderr, "sluice-access: no grant named '%s' in %s\n", argv[1], path);
			ret = EXIT_ERROR;
		} else {
			ret = save(ctx, path, a) < 0 ? EXIT_ERROR : EXIT_OK;
		}
	} else if (strcmp(argv[0], "list") == 0 && argc == 1) {
		for (size_t i = 0; i < a->n; i++)
			printf("%-5s %-5s %s\n",
			       a->grants[i].kind == MANAGE_GRANT_TOKEN ? "token" : "cert",
			       manage_role_name(a->grants[i].role), a->grants[i].name);
		ret = EXIT_OK;
	} else {
		usage(stderr);
		ret = EXIT_USAGE;
	}
	talloc_free(ctx);
	return ret;
}
