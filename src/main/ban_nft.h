/* Bans the kernel enforces (ban-nftables = NAME): main keeps its ban table (ban.c) and
 * also puts each banned address into an nftables set, so that a banned client's new
 * connections and datagrams are dropped before they reach sluiced, for the cost of one
 * lookup in the kernel. ban.c stays the one view of the bans (sluicectl show ip bans)
 * and still refuses, at accept, whatever gets past the kernel.
 *
 * At start-up main makes the table "inet NAME" (replacing one of that name that a
 * previous run left), and deletes it when it stops:
 *   - set ban4 (ipv4_addr) and set ban6 (ipv6_addr), both with timeouts: an element is
 *     added with its ban's remaining time, so the kernel drops it when the ban ends, and
 *     unban ip deletes it at once. ban6 holds the first address of a banned prefix of
 *     ban-ipv6-prefix bits, and the rules look it up with the client's address masked to
 *     that length: a hash set, where nft would have to read every element of an
 *     interval set on each change;
 *   - chain input (hook input, priority filter), one rule per listening socket and
 *     family it takes: a TCP SYN (a new connection; established ones go on, as main
 *     only ever refuses new ones) or a UDP datagram to the socket's port (and address,
 *     unless it listens on all of them) from an address in the set is counted and
 *     dropped.
 * Nothing here stops main: an nftables error is logged, and main refuses banned
 * addresses itself as it does without ban-nftables. */
#ifndef SLUICE_MAIN_BAN_NFT_H
#define SLUICE_MAIN_BAN_NFT_H

#include <time.h>

#include "common/netaddr.h"

struct main_ctx;

/* With ban-nftables set: the table, for the listening sockets main has (after
 * main_listen()). */
void ban_nft_start(struct main_ctx *m);
void ban_nft_stop(struct main_ctx *m);
/* The entry key (IPv4, or an IPv6 address with its bits beyond ban-ipv6-prefix clear)
 * is banned until `until`. */
void ban_nft_add(struct main_ctx *m, const struct netaddr *key, time_t until);
/* The entry key is no longer banned. */
void ban_nft_del(struct main_ctx *m, const struct netaddr *key);

#endif
