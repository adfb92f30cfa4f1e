#include "config.h"

#include "main/nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <string.h>

#include "common/log.h"

struct main_nft {
	struct nft_ctx *ctx;
};

static int free_ctx(struct main_nft *n)
{
	nft_ctx_free(n->ctx);
	return 0;
}

struct main_nft *main_nft_new(TALLOC_CTX *ctx)
{
	struct main_nft *n = talloc_zero(ctx, struct main_nft);

	if (!n)
		return NULL;
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->ctx) {
		talloc_free(n);
		return NULL;
	}
	talloc_set_destructor(n, free_ctx);
	/* Buffered, so that an error is logged as main's own line and nothing reaches
	 * stdout. */
	if (nft_ctx_buffer_error(n->ctx) < 0 || nft_ctx_buffer_output(n->ctx) < 0) {
		talloc_free(n);
		return NULL;
	}
	return n;
}

/* libnftables fails a whole command with EINTR ("Interrupted system call") when a
 * netlink dump it reads its cache with comes back marked interrupted (NLM_F_DUMP_INTR),
 * as seen under load; nothing is wrong with the command, so it is run again, a bounded
 * number of times. */
#define NFT_TRIES 4

static bool interrupted(const char *err, int saved_errno)
{
	return saved_errno == EINTR || strstr(err, strerror(EINTR)) != NULL;
}

/* Runs cmd; 0, or -EIO with *err set to nft's message. */
static int run(struct main_nft *n, const char *cmd, const char **err)
{
	*err = "";
	for (int i = 0; i < NFT_TRIES; i++) {
		int saved;

		errno = 0;
		if (nft_run_cmd_from_buffer(n->ctx, cmd) == 0)
			return 0;
		saved = errno;
		*err = nft_ctx_get_error_buffer(n->ctx);
		if (!*err)
			*err = "";
		if (!interrupted(*err, saved))
			break;
		log_debug("nftables: interrupted (try %d of %d)", i + 1, NFT_TRIES);
	}
	return -EIO;
}

int main_nft_try(struct main_nft *n, const char *cmd)
{
	const char *err;
	int ret = run(n, cmd, &err);

	if (ret < 0)
		log_debug("nftables: %s", err);
	return ret;
}

int main_nft_run(struct main_nft *n, const char *what, const char *cmd)
{
	const char *err;

	if (run(n, cmd, &err) == 0)
		return 0;
	/* nft's first line says what failed; the next ones quote the command and point
	 * into it, which only a debug log needs. */
	log_err("nftables: %s: %.*s", what, (int)strcspn(err, "\n"), err);
	log_debug("nftables: %s", err);
	return -EIO;
}

int main_nft_table_create(struct main_nft *n, const char *what, const char *table, const char *body)
{
	char *cmd;
	int ret;

	/* "add" then "delete" empties a table left by an earlier run, and works when there
	 * is none. */
	cmd = talloc_asprintf(n, "add table %1$s\ndelete table %1$s\nadd table %1$s\n%2$s", table,
			      body);
	if (!cmd)
		return -ENOMEM;
	ret = main_nft_run(n, what, cmd);
	talloc_free(cmd);
	return ret;
}

int main_nft_table_delete(struct main_nft *n, const char *what, const char *table)
{
	char *cmd = talloc_asprintf(n, "delete table %s\n", table);
	int ret;

	if (!cmd)
		return -ENOMEM;
	ret = main_nft_run(n, what, cmd);
	talloc_free(cmd);
	return ret;
}
