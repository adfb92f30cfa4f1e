#include "config.h"

#include "worker/bucket.h"

#include <stdint.h>

/* The deepest debt: far more than any packet or record, and far enough from
 * INT64_MIN that burst - level and level - one take cannot overflow. */
#define BUCKET_LEVEL_MIN (-(int64_t)UINT32_MAX * BUCKET_NS_PER_S)

void bucket_init(struct bucket *b, uint32_t rate, uint64_t now)
{
	b->rate = rate;
	b->burst = (int64_t)rate * (BUCKET_NS_PER_S / BUCKET_BURST_DIV);
	b->level = b->burst;
	b->last = now;
}

void bucket_refill(struct bucket *b, uint64_t now)
{
	int64_t room = b->burst - b->level; /* < 9.2e18: see BUCKET_LEVEL_MIN */
	uint64_t elapsed;

	if (!b->rate)
		return;
	if (now <= b->last) {
		b->last = now; /* a clock that went back: count from here */
		return;
	}
	elapsed = now - b->last;
	b->last = now;
	if (room <= 0)
		return;
	/* Compared by division first: rate x elapsed overflows after a long idle time. */
	if (elapsed > (uint64_t)(room / b->rate))
		b->level = b->burst;
	else
		b->level += b->rate * (int64_t)elapsed; /* <= room */
}

bool bucket_take(struct bucket *b, size_t len, uint64_t now)
{
	bucket_refill(b, now);
	if (len > UINT32_MAX || b->level < BUCKET_LEVEL_MIN + (int64_t)len * BUCKET_NS_PER_S)
		b->level = BUCKET_LEVEL_MIN;
	else
		b->level -= (int64_t)len * BUCKET_NS_PER_S;
	return b->level <= 0;
}

uint64_t bucket_wait(const struct bucket *b)
{
	int64_t need = b->burst / 2 - b->level;

	if (need <= 0 || !b->rate)
		return 0;
	return (uint64_t)((need + b->rate - 1) / b->rate);
}
