/* main's way into nftables, through libnftables: for the per-session packet policy
 * (filter.c) and for the bans the kernel enforces (ban_nft.c). Commands are nft's own
 * syntax, built only from values main parsed, normalised or derived itself; each runs as
 * one transaction (all of it or nothing), and a failure is logged with what was being done
 * and nft's own message. */
#ifndef SLUICE_MAIN_NFT_H
#define SLUICE_MAIN_NFT_H

#include <talloc.h>

struct main_nft;

/* A libnftables context that collects its errors; freed with ctx. NULL: out of memory. */
struct main_nft *main_nft_new(TALLOC_CTX *ctx);
/* Runs cmd. 0, or -EIO logged as "nftables: WHAT: nft's error". */
int main_nft_run(struct main_nft *n, const char *what, const char *cmd);
/* Runs cmd as main_nft_run does, for a command whose failure the caller handles: the
 * error goes only to the debug log. */
int main_nft_try(struct main_nft *n, const char *cmd);
/* Makes table ("inet NAME") anew with the commands of body (which name it) in one
 * transaction; a table of that name left by an earlier run is replaced. 0 or -errno. */
int main_nft_table_create(struct main_nft *n, const char *what, const char *table,
			  const char *body);
/* Deletes table with all it holds. 0, or -EIO logged. */
int main_nft_table_delete(struct main_nft *n, const char *what, const char *table);

#endif
