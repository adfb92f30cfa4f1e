#include "config.h"
#include "main/lease.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_main.h"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct lease_pool *pool(void *ctx, const char *net, const char *mask)
{
	struct lease_pool *p = lease_pool_new(ctx, ip(net), ip(mask));

	ck_assert_ptr_nonnull(p);
	return p;
}

static bool in_pool_client_range(struct in_addr a, const char *net, unsigned prefix)
{
	uint32_t n = ntohl(ip(net).s_addr);
	uint32_t h = ntohl(a.s_addr);
	uint32_t size = 1u << (32 - prefix);

	return h > n + 1 && h < n + size - 1;
}

START_TEST(test_new_rejects_bad_input)
{
	void *ctx = talloc_new(NULL);

	ck_assert_ptr_null(lease_pool_new(ctx, ip("198.19.0.0"), ip("255.255.0.255")));
	ck_assert_ptr_null(lease_pool_new(ctx, ip("198.19.0.0"), ip("255.255.255.254")));
	ck_assert_ptr_null(lease_pool_new(ctx, ip("198.19.0.0"), ip("255.255.255.255")));
	ck_assert_ptr_null(lease_pool_new(ctx, ip("198.0.0.0"), ip("254.0.0.0")));
	ck_assert_ptr_null(lease_pool_new(ctx, ip("198.19.0.1"), ip("255.255.255.0")));
	ck_assert_ptr_nonnull(lease_pool_new(ctx, ip("198.0.0.0"), ip("255.0.0.0")));
	talloc_free(ctx);
}
END_TEST

START_TEST(test_capacity)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p24 = pool(ctx, "198.19.0.0", "255.255.255.0");
	struct lease_pool *p30 = pool(ctx, "198.19.1.0", "255.255.255.252");

	ck_assert_uint_eq(lease_capacity(p24), 253);
	ck_assert_uint_eq(lease_capacity(p30), 1);
	ck_assert_uint_eq(lease_count(p24), 0);
	ck_assert_uint_eq(lease_pool_server_addr(p24).s_addr, ip("198.19.0.1").s_addr);
	ck_assert_uint_eq(lease_pool_server_addr(p30).s_addr, ip("198.19.1.1").s_addr);
	talloc_free(ctx);
}
END_TEST

/* Fill the pool whichever way the addresses are picked: every one must be a
 * client address, and all distinct. */
START_TEST(test_never_reserved_addresses)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.255.0");
	static bool seen[256];
	char sid[32], user[32];
	struct in_addr a;

	for (int i = 0; i < 253; i++) {
		snprintf(sid, sizeof(sid), "s%d", i);
		snprintf(user, sizeof(user), "u%d", i);
		ck_assert_int_eq(lease_acquire(p, sid, user, i % 2, NULL, &a), 0);
		ck_assert_msg(in_pool_client_range(a, "198.19.0.0", 24), "bad address %s",
			      inet_ntoa(a));
		ck_assert(!seen[ntohl(a.s_addr) & 0xff]);
		seen[ntohl(a.s_addr) & 0xff] = true;
	}
	ck_assert_uint_eq(lease_count(p), 253);

	struct lease_pool *p30 = pool(ctx, "198.19.1.0", "255.255.255.252");

	ck_assert_int_eq(lease_acquire(p30, "x", "alice", true, NULL, &a), 0);
	ck_assert_uint_eq(a.s_addr, ip("198.19.1.2").s_addr);

	/* Churn in a small pool so the searches wrap around several times. */
	struct lease_pool *p29 = pool(ctx, "198.19.2.0", "255.255.255.248");

	for (int i = 0; i < 200; i++) {
		snprintf(sid, sizeof(sid), "c%d", i);
		snprintf(user, sizeof(user), "u%d", i);
		ck_assert_int_eq(lease_acquire(p29, sid, user, i % 3 == 0, NULL, &a), 0);
		ck_assert_msg(in_pool_client_range(a, "198.19.2.0", 29), "bad address %s",
			      inet_ntoa(a));
		if (i >= 2) {
			snprintf(sid, sizeof(sid), "c%d", i - 2);
			lease_release(p29, sid);
		}
	}
	talloc_free(ctx);
}
END_TEST

START_TEST(test_same_sid_same_address)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.255.0");
	struct in_addr a, b, c, req = ip("198.19.0.77");

	ck_assert_int_eq(lease_acquire(p, "sid-1", "alice", false, NULL, &a), 0);
	ck_assert_int_eq(lease_acquire(p, "sid-2", "bob", false, NULL, &c), 0);
	ck_assert_uint_ne(a.s_addr, c.s_addr);
	/* An existing lease wins over a requested address and over predictability. */
	ck_assert_int_eq(lease_acquire(p, "sid-1", "alice", true, &req, &b), 0);
	ck_assert_uint_eq(a.s_addr, b.s_addr);
	ck_assert_uint_eq(lease_count(p), 2);
	ck_assert_int_eq(lease_lookup(p, "sid-1", &b), 0);
	ck_assert_uint_eq(a.s_addr, b.s_addr);
	ck_assert_int_eq(lease_lookup(p, "sid-3", &b), -ENOENT);
	lease_release(p, "sid-1");
	ck_assert_int_eq(lease_lookup(p, "sid-1", &b), -ENOENT);
	ck_assert_int_eq(lease_lookup(p, "sid-2", &b), 0);
	ck_assert_uint_eq(c.s_addr, b.s_addr);
	talloc_free(ctx);
}
END_TEST

START_TEST(test_predictable)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.0.0");
	struct lease_pool *q = pool(ctx, "198.19.0.0", "255.255.0.0");
	struct in_addr a, b, c, other;
	char sid[32];

	ck_assert_int_eq(lease_acquire(p, "s1", "alice", true, NULL, &a), 0);
	lease_release(p, "s1");
	for (int i = 0; i < 50; i++) {
		snprintf(sid, sizeof(sid), "filler%d", i);
		ck_assert_int_eq(lease_acquire(p, sid, NULL, false, NULL, &other), 0);
		ck_assert_uint_ne(other.s_addr, a.s_addr);
	}
	ck_assert_int_eq(lease_acquire(p, "s2", "alice", true, NULL, &b), 0);
	ck_assert_uint_eq(a.s_addr, b.s_addr);
	/* A fresh pool (a restart) maps alice to the same address. */
	ck_assert_int_eq(lease_acquire(q, "s9", "alice", true, NULL, &c), 0);
	ck_assert_uint_eq(a.s_addr, c.s_addr);
	/* If it is taken, alice still gets an address. */
	ck_assert_int_eq(lease_acquire(p, "s3", "alice", true, NULL, &c), 0);
	ck_assert_uint_ne(a.s_addr, c.s_addr);
	ck_assert(in_pool_client_range(c, "198.19.0.0", 16));
	ck_assert_int_eq(lease_acquire(p, "s4", "bob", true, NULL, &c), 0);
	ck_assert_uint_ne(a.s_addr, c.s_addr);
	ck_assert_int_eq(lease_acquire(p, "s5", NULL, true, NULL, &c), -EINVAL);
	talloc_free(ctx);
}
END_TEST

START_TEST(test_requested)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.255.0");
	struct in_addr a, req = ip("198.19.0.100");
	const char *refused[] = {"198.19.0.0", "198.19.0.1", "198.19.0.255", "198.19.1.5",
				 "198.18.0.100"};

	ck_assert_int_eq(lease_acquire(p, "s1", "alice", false, &req, &a), 0);
	ck_assert_uint_eq(a.s_addr, req.s_addr);
	ck_assert_int_eq(lease_acquire(p, "s2", "bob", true, &req, &a), 0);
	ck_assert_uint_ne(a.s_addr, req.s_addr);
	ck_assert(in_pool_client_range(a, "198.19.0.0", 24));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char sid[16];
		struct in_addr r = ip(refused[i]);

		snprintf(sid, sizeof(sid), "r%zu", i);
		ck_assert_int_eq(lease_acquire(p, sid, "carol", false, &r, &a), 0);
		ck_assert_uint_ne(a.s_addr, r.s_addr);
		ck_assert(in_pool_client_range(a, "198.19.0.0", 24));
	}
	lease_release(p, "s1");
	ck_assert_int_eq(lease_acquire(p, "s3", "dave", false, &req, &a), 0);
	ck_assert_uint_eq(a.s_addr, req.s_addr);
	talloc_free(ctx);
}
END_TEST

/* The address a user held last is the one they may ask for again. */
START_TEST(test_previous)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.255.0");
	struct in_addr a, b, prev;

	ck_assert_int_eq(lease_previous(p, "alice", &prev), -ENOENT);
	ck_assert_int_eq(lease_acquire(p, "s1", "alice", false, NULL, &a), 0);
	ck_assert_int_eq(lease_previous(p, "alice", &prev), 0);
	ck_assert_uint_eq(prev.s_addr, a.s_addr);
	lease_release(p, "s1");
	/* Kept after the release: that is when a client comes back and asks. */
	ck_assert_int_eq(lease_previous(p, "alice", &prev), 0);
	ck_assert_uint_eq(prev.s_addr, a.s_addr);
	ck_assert_int_eq(lease_acquire(p, "s2", "alice", false, NULL, &b), 0);
	ck_assert_uint_ne(a.s_addr, b.s_addr); /* next-fit moved on */
	ck_assert_int_eq(lease_previous(p, "alice", &prev), 0);
	ck_assert_uint_eq(prev.s_addr, b.s_addr);
	ck_assert_int_eq(lease_previous(p, "bob", &prev), -ENOENT);
	ck_assert_int_eq(lease_previous(p, NULL, &prev), -EINVAL);
	talloc_free(ctx);
}
END_TEST

START_TEST(test_exhaustion)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.255.248");
	struct in_addr a, freed;
	char sid[16];

	ck_assert_uint_eq(lease_capacity(p), 5);
	for (int i = 0; i < 5; i++) {
		snprintf(sid, sizeof(sid), "s%d", i);
		ck_assert_int_eq(lease_acquire(p, sid, "u", i % 2, NULL, &a), 0);
	}
	ck_assert_int_eq(lease_acquire(p, "late", "u", false, NULL, &a), -ENOSPC);
	ck_assert_int_eq(lease_acquire(p, "late", "u", true, NULL, &a), -ENOSPC);
	ck_assert_int_eq(lease_lookup(p, "s3", &freed), 0);
	lease_release(p, "s3");
	ck_assert_uint_eq(lease_count(p), 4);
	ck_assert_int_eq(lease_acquire(p, "late", "u", false, NULL, &a), 0);
	ck_assert_uint_eq(a.s_addr, freed.s_addr);
	ck_assert_int_eq(lease_acquire(p, "later", "u", false, NULL, &a), -ENOSPC);
	talloc_free(ctx);
}
END_TEST

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_10k_sessions)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.0.0");
	struct in_addr a, b;
	char sid[32], user[32];
	double t0 = now(), elapsed;

	for (int i = 0; i < 10000; i++) {
		snprintf(sid, sizeof(sid), "session-%08x", i * 2654435761u);
		snprintf(user, sizeof(user), "user%d", i);
		ck_assert_int_eq(lease_acquire(p, sid, user, i % 3 == 0, NULL, &a), 0);
	}
	ck_assert_uint_eq(lease_count(p), 10000);
	for (int i = 0; i < 10000; i++) {
		snprintf(sid, sizeof(sid), "session-%08x", i * 2654435761u);
		ck_assert_int_eq(lease_lookup(p, sid, &a), 0);
		if (i % 2) {
			lease_release(p, sid);
			continue;
		}
		snprintf(user, sizeof(user), "user%d", i);
		ck_assert_int_eq(lease_acquire(p, sid, user, false, NULL, &b), 0);
		ck_assert_uint_eq(a.s_addr, b.s_addr);
	}
	ck_assert_uint_eq(lease_count(p), 5000);
	elapsed = now() - t0;
	/* About 0.07 s here; the bound leaves room for valgrind and slow CI. */
	ck_assert_msg(elapsed < 2.0, "10,000 sessions took %.3f s", elapsed);
	talloc_free(ctx);
}
END_TEST

START_TEST(test_bad_arguments)
{
	void *ctx = talloc_new(NULL);
	struct lease_pool *p = pool(ctx, "198.19.0.0", "255.255.255.0");
	char longsid[LEASE_SID_MAX + 2];
	struct in_addr a;

	memset(longsid, 'x', sizeof(longsid) - 1);
	longsid[sizeof(longsid) - 1] = '\0';
	ck_assert_int_eq(lease_acquire(p, NULL, "u", false, NULL, &a), -EINVAL);
	ck_assert_int_eq(lease_acquire(p, "", "u", false, NULL, &a), -EINVAL);
	ck_assert_int_eq(lease_acquire(p, longsid, "u", false, NULL, &a), -EINVAL);
	ck_assert_int_eq(lease_acquire(p, "s", "u", false, NULL, NULL), -EINVAL);
	longsid[LEASE_SID_MAX] = '\0';
	ck_assert_int_eq(lease_acquire(p, longsid, "u", false, NULL, &a), 0);
	ck_assert_int_eq(lease_lookup(p, longsid, &a), 0);
	/* Releasing what was never leased, or twice, changes nothing. */
	lease_release(p, "unknown");
	lease_release(p, longsid);
	lease_release(p, longsid);
	lease_release(p, NULL);
	ck_assert_uint_eq(lease_count(p), 0);
	talloc_free(ctx);
}
END_TEST

/* --- IPv6 ----------------------------------------------------------------------------- */

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	ck_assert_int_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static void assert_ip6(struct in6_addr a, const char *want)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &a, text, sizeof(text));
	ck_assert_str_eq(text, want);
}

START_TEST(test6_new_rejects_bad_input)
{
	void *ctx = talloc_new(NULL);
	struct in6_addr n = ip6("fd00:18::");

	ck_assert_ptr_null(lease_pool_new6(ctx, NULL, 64, 128));
	ck_assert_ptr_null(lease_pool_new6(ctx, &n, 15, 128));   /* too wide a network */
	ck_assert_ptr_null(lease_pool_new6(ctx, &n, 64, 129));
	ck_assert_ptr_null(lease_pool_new6(ctx, &n, 64, 65));    /* room for no client */
	ck_assert_ptr_null(lease_pool_new6(ctx, &n, 64, 60));
	n = ip6("fd00:18::1");
	ck_assert_ptr_null(lease_pool_new6(ctx, &n, 64, 128));   /* host bits */
	n = ip6("fd00:18::");
	ck_assert_ptr_nonnull(lease_pool_new6(ctx, &n, 64, 66));
	ck_assert_ptr_null(lease_pool_new6(ctx, &n, 16, 128)); /* host bits again */
	n = ip6("fd00::");
	ck_assert_ptr_nonnull(lease_pool_new6(ctx, &n, 16, 128));
	talloc_free(ctx);
}
END_TEST

START_TEST(test6_addresses)
{
	void *ctx = talloc_new(NULL);
	struct in6_addr n = ip6("fd00:18::"), a, b, net;
	struct lease_pool *p128 = lease_pool_new6(ctx, &n, 64, 128);
	struct lease_pool *p64;
	unsigned len, sub;
	struct in_addr v4;

	ck_assert_ptr_nonnull(p128);
	ck_assert_int_eq(lease_pool_family(p128), AF_INET6);
	ck_assert_uint_eq(lease_capacity(p128), (1u << LEASE6_OFFSET_BITS) - 3);
	assert_ip6(lease_pool_server_addr6(p128), "fd00:18::1");
	ck_assert_int_eq(lease_acquire6(p128, "s1", "alice", false, NULL, &a), 0);
	assert_ip6(a, "fd00:18::2");
	ck_assert_int_eq(lease_lookup6(p128, "s1", &b), 0);
	ck_assert_mem_eq(&a, &b, 16);
	/* An IPv4 call on an IPv6 pool is refused. */
	ck_assert_int_eq(lease_acquire(p128, "s2", "bob", false, NULL, &v4), -EINVAL);
	ck_assert_int_eq(lease_lookup(p128, "s1", &v4), -EINVAL);

	n = ip6("fd00:19:1::");
	p64 = lease_pool_new6(ctx, &n, 48, 64);
	ck_assert_ptr_nonnull(p64);
	ck_assert_uint_eq(lease_capacity(p64), (1u << 16) - 3);
	assert_ip6(lease_pool_server_addr6(p64), "fd00:19:1::1");
	lease_pool_network6(p64, &net, &len, &sub);
	assert_ip6(net, "fd00:19:1::");
	ck_assert_uint_eq(len, 48);
	ck_assert_uint_eq(sub, 64);
	/* Prefix 0 holds the server, 1 is reserved: the first client gets prefix 2. */
	ck_assert_int_eq(lease_acquire6(p64, "s1", "alice", false, NULL, &a), 0);
	assert_ip6(a, "fd00:19:1:2::1");
	ck_assert_int_eq(lease_acquire6(p64, "s2", "bob", false, NULL, &a), 0);
	assert_ip6(a, "fd00:19:1:3::1");
	/* The last prefix is never handed out either. */
	b = ip6("fd00:19:1:ffff::1");
	ck_assert_int_eq(lease_acquire6(p64, "s3", "carol", false, &b, &a), 0);
	ck_assert_mem_ne(&a, &b, 16);
	talloc_free(ctx);
}
END_TEST

START_TEST(test6_requested_and_predictable)
{
	void *ctx = talloc_new(NULL);
	struct in6_addr n = ip6("fd00:18::"), a, b, c, prev;
	struct lease_pool *p = lease_pool_new6(ctx, &n, 112, 128);
	struct lease_pool *q = lease_pool_new6(ctx, &n, 112, 128);

	ck_assert_uint_eq(lease_capacity(p), 65533);
	ck_assert_int_eq(lease_acquire6(p, "s1", "alice", true, NULL, &a), 0);
	/* The same user gets the same address from a pool made anew (a restart). */
	ck_assert_int_eq(lease_acquire6(q, "s9", "alice", true, NULL, &b), 0);
	ck_assert_mem_eq(&a, &b, 16);
	ck_assert_int_eq(lease_previous6(p, "alice", &prev), 0);
	ck_assert_mem_eq(&a, &prev, 16);
	ck_assert_int_eq(lease_previous6(p, "bob", &prev), -ENOENT);
	/* A requested free address inside the pool is given; one outside is not. */
	c = ip6("fd00:18::77");
	ck_assert_int_eq(lease_acquire6(p, "s2", "bob", false, &c, &b), 0);
	assert_ip6(b, "fd00:18::77");
	c = ip6("fd00:19::77");
	ck_assert_int_eq(lease_acquire6(p, "s3", "carol", false, &c, &b), 0);
	ck_assert_mem_ne(&b, &c, 16);
	ck_assert_int_eq(lease_acquire6(p, "s4", NULL, true, NULL, &b), -EINVAL);
	ck_assert_int_eq(lease_acquire6(p, "s5", "dave", false, NULL, NULL), -EINVAL);
	lease_release(p, "s1");
	ck_assert_int_eq(lease_lookup6(p, "s1", &b), -ENOENT);
	ck_assert_uint_eq(lease_count(p), 2);
	talloc_free(ctx);
}
END_TEST

START_TEST(test6_exhaustion)
{
	void *ctx = talloc_new(NULL);
	struct in6_addr n = ip6("fd00:18::"), a;
	struct lease_pool *p = lease_pool_new6(ctx, &n, 64, 67);
	char sid[16];

	ck_assert_uint_eq(lease_capacity(p), 5);
	for (int i = 0; i < 5; i++) {
		snprintf(sid, sizeof(sid), "s%d", i);
		ck_assert_int_eq(lease_acquire6(p, sid, NULL, false, NULL, &a), 0);
	}
	ck_assert_int_eq(lease_acquire6(p, "more", NULL, false, NULL, &a), -ENOSPC);
	talloc_free(ctx);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_new_rejects_bad_input},
	    {test_capacity},
	    {test_never_reserved_addresses},
	    {test_same_sid_same_address},
	    {test_predictable},
	    {test_requested},
	    {test_previous},
	    {test_exhaustion},
	    {test_10k_sessions},
	    {test_bad_arguments},
	    {test6_new_rejects_bad_input},
	    {test6_addresses},
	    {test6_requested_and_predictable},
	    {test6_exhaustion},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"lease", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("lease", cases);
}
