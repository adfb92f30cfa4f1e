/* A token bucket for rx-data-per-sec and tx-data-per-sec, as pure functions on a clock
 * the caller gives (nanoseconds), so that tests can drive it.
 *
 * A packet may go while the bucket holds anything and takes its whole length, so the
 * level goes below zero (a debt) rather than a packet being held back or cut: the
 * tunnel never buffers what it has read. While the level is zero or below, the
 * tunnel stops reading that direction until the bucket has refilled to half its burst.
 *
 * Levels are in nanobytes (bytes x 1e9): a refill adds rate x elapsed nanoseconds
 * exactly, where whole bytes would lose the fraction of a byte that refills a few
 * microseconds apart add. With rates up to UINT32_MAX bytes/s no product overflows. */
#ifndef SLUICE_BUCKET_H
#define SLUICE_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUCKET_NS_PER_S 1000000000LL
/* The burst is a tenth of a second of the rate: long enough that one wakeup's batch of
 * packets and timer jitter of a few milliseconds do not cost throughput, short enough
 * that the rate holds over any window people or tests look at (a one-second burst
 * would let a 3 s sample show a third more than the limit). */
#define BUCKET_BURST_DIV 10

struct bucket {
	int64_t rate;  /* bytes per second; 0: unlimited (the bucket is not used) */
	int64_t burst; /* most nanobytes it holds */
	int64_t level; /* nanobytes; at most burst, below zero after an overdraft */
	uint64_t last; /* the clock at the last refill */
};

/* A full bucket for rate bytes per second (0: unlimited) at time now. */
void bucket_init(struct bucket *b, uint32_t rate, uint64_t now);
/* Adds what the time since the last refill earned, up to the burst. A clock that went
 * backwards earns nothing. */
void bucket_refill(struct bucket *b, uint64_t now);
/* Refills, then takes len bytes; true when the bucket is empty (level <= 0) after it,
 * i.e. the caller must stop reading for bucket_wait() nanoseconds. */
bool bucket_take(struct bucket *b, size_t len, uint64_t now);
/* Nanoseconds until the bucket holds half its burst again; 0 when it does now. */
uint64_t bucket_wait(const struct bucket *b);

#endif
