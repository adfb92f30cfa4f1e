#include "config.h"

#include "main/nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
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

int main_nft_run(struct main_nft *n, const char *what, const char *cmd)
{
	const char *err;

	if (nft_run_cmd_from_buffer(n->ctx, cmd) == 0)
		return 0;
	err = nft_ctx_get_error_buffer(n->ctx);
	if (!err)
		err = "";
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
