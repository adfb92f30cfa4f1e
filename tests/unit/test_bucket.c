/* The token bucket of rx-data-per-sec and tx-data-per-sec, on a clock the tests set. */
#include "config.h"
#include "worker/bucket.h"

#include <check.h>
#include <stdint.h>

#include "check_main.h"

#define S  1000000000ULL /* one second on the bucket's clock */
#define MS 1000000ULL
#define T0 (1700000000ULL * S) /* a clock of today's Unix time, as the worker's */

static int64_t bytes(const struct bucket *b)
{
	return b->level / BUCKET_NS_PER_S;
}

/* It starts full, a tenth of a second of the rate, and the take that empties it
 * says so. */
START_TEST(test_burst)
{
	struct bucket b;

	bucket_init(&b, 250000, T0);
	ck_assert_int_eq(bytes(&b), 25000);
	for (int i = 0; i < 24; i++)
		ck_assert(!bucket_take(&b, 1000, T0));
	ck_assert(bucket_take(&b, 1000, T0));
	ck_assert_int_eq(bytes(&b), 0);
}
END_TEST

/* A packet larger than what is left still goes; the debt is paid by waiting. */
START_TEST(test_overdraft)
{
	struct bucket b;

	bucket_init(&b, 1000, T0);
	ck_assert_int_eq(bytes(&b), 100);
	ck_assert(bucket_take(&b, 1500, T0));
	ck_assert_int_eq(bytes(&b), -1400);
	/* back to half the burst (50 bytes): 1450 bytes at 1000/s */
	ck_assert_uint_eq(bucket_wait(&b), 1450 * MS);
	bucket_refill(&b, T0 + 1450 * MS);
	ck_assert_int_eq(bytes(&b), 50);
	ck_assert_uint_eq(bucket_wait(&b), 0);
}
END_TEST

/* Refills earn exactly rate x time, also when they come microseconds apart: nothing
 * is lost to rounding. */
START_TEST(test_refill_exact)
{
	struct bucket b;
	uint64_t now = T0;

	bucket_init(&b, 250000, now);
	bucket_take(&b, 25000, now);
	ck_assert_int_eq(b.level, 0);
	for (int i = 0; i < 10000; i++) {
		now += 3000; /* 3 us: 0.75 bytes each */
		bucket_refill(&b, now);
	}
	ck_assert_int_eq(b.level, 7500LL * BUCKET_NS_PER_S);
}
END_TEST

/* However long it was idle, it holds at most its burst. */
START_TEST(test_burst_cap)
{
	struct bucket b;

	bucket_init(&b, 250000, T0);
	bucket_take(&b, 20000, T0);
	bucket_refill(&b, T0 + 10 * MS);
	ck_assert_int_eq(bytes(&b), 7500);
	bucket_refill(&b, T0 + 3600 * S);
	ck_assert_int_eq(bytes(&b), 25000);
	bucket_refill(&b, UINT64_MAX);
	ck_assert_int_eq(bytes(&b), 25000);
}
END_TEST

/* The largest rate, the longest idle time, the largest take: no overflow. */
START_TEST(test_big_values)
{
	struct bucket b;

	bucket_init(&b, UINT32_MAX, 0);
	ck_assert_int_eq(bytes(&b), UINT32_MAX / 10);
	ck_assert(bucket_take(&b, SIZE_MAX, 1));
	ck_assert_int_lt(b.level, 0);
	/* further takes while in debt neither wrap nor go deeper than the floor */
	for (int i = 0; i < 4; i++)
		ck_assert(bucket_take(&b, UINT32_MAX, 1));
	ck_assert_int_lt(b.level, 0);
	ck_assert_uint_gt(bucket_wait(&b), S);
	bucket_refill(&b, UINT64_MAX);
	ck_assert_int_eq(bytes(&b), UINT32_MAX / 10);
	ck_assert(!bucket_take(&b, 1, UINT64_MAX));

	/* one byte a second: a tenth of a byte of burst; one packet waits 1500 s */
	bucket_init(&b, 1, T0);
	ck_assert(bucket_take(&b, 1500, T0));
	ck_assert_uint_eq(bucket_wait(&b), 1500 * S - 50 * MS);
	bucket_refill(&b, T0 + 1500 * S);
	ck_assert_int_gt(b.level, 0);
}
END_TEST

/* A clock that steps back earns nothing and does not stall the bucket afterwards. */
START_TEST(test_clock_back)
{
	struct bucket b;

	bucket_init(&b, 1000, T0);
	bucket_take(&b, 100, T0);
	bucket_refill(&b, T0 - 5 * S);
	ck_assert_int_eq(b.level, 0);
	bucket_refill(&b, T0 - 5 * S + 50 * MS);
	ck_assert_int_eq(bytes(&b), 50);
}
END_TEST

/* What the rate allows over a long run: takes whenever the bucket lets them, at the
 * times its wait names, move rate x time plus at most the burst and one packet. */
START_TEST(test_long_run)
{
	struct bucket b;
	uint64_t now = T0, moved = 0;

	bucket_init(&b, 125000, now);
	while (now < T0 + 10 * S) {
		moved += 1400;
		if (bucket_take(&b, 1400, now))
			now += bucket_wait(&b);
	}
	ck_assert_uint_ge(moved, 1250000);
	ck_assert_uint_le(moved, 1250000 + 12500 + 1400);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_burst},      {test_overdraft},  {test_refill_exact}, {test_burst_cap},
	    {test_big_values}, {test_clock_back}, {test_long_run},     {NULL},
	};
	const struct check_case cases[] = {
	    {"bucket", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("bucket", cases);
}
