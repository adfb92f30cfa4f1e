/* The ban table (src/main/ban.c) with a main_ctx of its own: scores, bans, the
 * IPv4-mapped form of an IPv4 client, IPv6 clients scored per prefix, unban, listing,
 * scores that drain over time, expiry and the size bound. */
#include "config.h"
#include "main/ban.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "main/events.h"
#include "main/main.h"

#include "check_main.h"

static struct main_ctx *m;
static unsigned n_ban, n_unban;
static ev_tstamp fake_now;

/* The clock as ban.c reads it: this stands in for libev's ev_now(), so that a test moves
 * time on by as much as it needs without waiting for it. */
ev_tstamp ev_now(struct ev_loop *loop)
{
	return fake_now;
}

/* The event hub as ban.c sees it: here it only counts. */
void main_event(struct main_ctx *ctx, const struct main_event *ev)
{
	if (ev->kind == MEV_BAN)
		n_ban++;
	else if (ev->kind == MEV_UNBAN)
		n_unban++;
}

static void setup(void)
{
	m = talloc_zero(NULL, struct main_ctx);
	m->cfg = talloc_zero(m, struct sluice_config);
	m->cfg->max_ban_score = 20;
	m->cfg->ban_time = 300;
	m->cfg->ban_reset_time = 1200;
	m->cfg->ban_points_wrong_password = 10;
	m->cfg->ban_points_connection = 1;
	m->cfg->ban_ipv6_prefix = 64;
	m->loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_int_eq(main_ban_init(m), 0);
	n_ban = n_unban = 0;
	fake_now = 1700000000.;
}

static void teardown(void)
{
	ev_loop_destroy(m->loop);
	talloc_free(m);
}

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (void *)&ss;

	s4->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s6 = (void *)&ss;

	s6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	return ss;
}

static void wrong_password(const char *ip)
{
	struct main_event ev = {
	    .kind = MEV_AUTH, .ok = false, .client_ip = ip, .reason = "wrong password"};

	main_ban_on_event(m, &ev);
}

static void count(void *arg, const struct ban_info *b)
{
	(*(unsigned *)arg)++;
}

/* The listed entries, "ip score" each, sorted by nothing: tests list one or two. */
static void names(void *arg, const struct ban_info *b)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s%s %u", *out ? ", " : "", b->ip,
		 b->score);
}

START_TEST(test_two_wrong_passwords_ban)
{
	struct sockaddr_storage a = v4("198.18.0.2"), mapped = v6("::ffff:198.18.0.2");
	struct sockaddr_storage other = v4("198.18.1.2");
	unsigned banned = 0, all = 0;

	ck_assert(!main_ban_connection(m, &mapped));
	wrong_password("198.18.0.2");
	ck_assert_uint_eq(n_ban, 0);
	ck_assert(!main_ban_connection(m, &a));
	wrong_password("::ffff:198.18.0.2");
	ck_assert_uint_eq(n_ban, 1);
	ck_assert(main_ban_connection(m, &a));
	ck_assert(main_ban_connection(m, &mapped));
	ck_assert(!main_ban_connection(m, &other));
	main_ban_list(m, true, count, &banned);
	main_ban_list(m, false, count, &all);
	ck_assert_uint_eq(banned, 1);
	ck_assert_uint_eq(all, 2);
}
END_TEST

/* Whatever ban-ipv6-prefix says, an IPv4 client (as such or IPv4-mapped) is one address. */
START_TEST(test_mapped_stays_ipv4)
{
	struct sockaddr_storage mapped = v6("::ffff:198.18.0.2");
	char list[256] = "";

	m->cfg->ban_ipv6_prefix = 32;
	wrong_password("::ffff:198.18.0.2");
	ck_assert(!main_ban_connection(m, &mapped));
	main_ban_list(m, false, names, list);
	ck_assert_str_eq(list, "198.18.0.2 11");
	wrong_password("198.18.0.3");
	ck_assert(!main_ban_connection(m, &mapped));
	ck_assert_int_eq(main_ban_unban(m, "198.18.0.2/24"), -ENOENT);
	ck_assert_int_eq(main_ban_unban(m, "::ffff:198.18.0.2/128"), -EINVAL);
	ck_assert_int_eq(main_ban_unban(m, "198.18.0.2/32"), 0);
	ck_assert_int_eq(main_ban_unban(m, "::ffff:198.18.0.3"), 0);
}
END_TEST

/* Two addresses of one /64 share a score: the second wrong password bans the prefix,
 * which refuses every address in it and no other. */
START_TEST(test_ipv6_per_prefix)
{
	struct sockaddr_storage same = v6("fd00:18:0:1:ffff:ffff:ffff:ffff");
	struct sockaddr_storage next = v6("fd00:18:0:2::2"), first = v6("fd00:18:0:1::2");
	char list[256] = "";

	wrong_password("fd00:18:0:1::2");
	ck_assert(!main_ban_connection(m, &first));
	wrong_password("fd00:18:0:1::3");
	ck_assert_uint_eq(n_ban, 1);
	ck_assert(main_ban_connection(m, &same));
	ck_assert(main_ban_connection(m, &first));
	ck_assert(!main_ban_connection(m, &next));
	main_ban_list(m, true, names, list);
	ck_assert_str_eq(list, "fd00:18:0:1::/64 21");
	/* A prefix names its entry only at the table's length. */
	ck_assert_int_eq(main_ban_unban(m, "fd00:18:0:1::/48"), -ENOENT);
	ck_assert_int_eq(main_ban_unban(m, "fd00:18:0:1::/64"), 0);
	ck_assert_uint_eq(n_unban, 1);
	ck_assert(!main_ban_connection(m, &same));
	/* And any address inside it names it too. */
	wrong_password("fd00:18:0:1::2");
	wrong_password("fd00:18:0:1::2");
	ck_assert(main_ban_connection(m, &first));
	ck_assert_int_eq(main_ban_unban(m, "fd00:18:0:1:abcd::1"), 0);
	ck_assert(!main_ban_connection(m, &first));
	ck_assert_uint_eq(n_unban, 2);
}
END_TEST

START_TEST(test_ipv6_prefix_length)
{
	struct sockaddr_storage a = v6("fd00:18:0:1::2"), b = v6("fd00:18:0:1::3");
	struct sockaddr_storage far = v6("fd00:18:0:ff::9"), out = v6("fd00:18:0:100::9");
	char list[256] = "";

	/* 128: every address for itself. */
	m->cfg->ban_ipv6_prefix = 128;
	wrong_password("fd00:18:0:1::2");
	wrong_password("fd00:18:0:1::2");
	ck_assert(main_ban_connection(m, &a));
	ck_assert(!main_ban_connection(m, &b));
	main_ban_list(m, true, names, list);
	ck_assert_str_eq(list, "fd00:18:0:1::2 20");
	ck_assert_int_eq(main_ban_unban(m, "fd00:18:0:1::2/128"), 0);
	/* 56: the 256 /64s of a /56 are one. */
	m->cfg->ban_ipv6_prefix = 56;
	wrong_password("fd00:18:0:1::2");
	wrong_password("fd00:18:0:ff::2");
	ck_assert(main_ban_connection(m, &far));
	ck_assert(!main_ban_connection(m, &out));
	list[0] = '\0';
	main_ban_list(m, true, names, list);
	ck_assert_str_eq(list, "fd00:18::/56 20");
	ck_assert_int_eq(main_ban_unban(m, "fd00:18::/56"), 0);
}
END_TEST

/* sec marks the failures that are not the client's guesses (a full server, a broken
 * file, a backend that did not answer): they score nothing, whatever their reason. */
START_TEST(test_not_the_clients_fault)
{
	struct main_event full = {.kind = MEV_AUTH,
				  .client_ip = "198.18.0.2",
				  .reason = "too many sessions",
				  .not_scored = true};
	struct main_event down = {.kind = MEV_AUTH,
				  .client_ip = "198.18.0.2",
				  .reason = "RADIUS: no answer from the server",
				  .not_scored = true};

	for (int i = 0; i < 5; i++) {
		main_ban_on_event(m, &full);
		main_ban_on_event(m, &down);
	}
	ck_assert_uint_eq(n_ban, 0);
}
END_TEST

START_TEST(test_unban)
{
	struct sockaddr_storage a = v6("fd00::2");

	wrong_password("fd00::2");
	wrong_password("fd00::2");
	ck_assert(main_ban_connection(m, &a));
	ck_assert_int_eq(main_ban_unban(m, "fd00:0:0:1::3"), -ENOENT);
	ck_assert_int_eq(main_ban_unban(m, "not an address"), -EINVAL);
	ck_assert_int_eq(main_ban_unban(m, "fd00::2"), 0);
	ck_assert_uint_eq(n_unban, 1);
	ck_assert(!main_ban_connection(m, &a));
}
END_TEST

START_TEST(test_off)
{
	struct sockaddr_storage a = v4("198.18.0.2");

	m->cfg->max_ban_score = 0;
	for (int i = 0; i < 10; i++)
		wrong_password("198.18.0.2");
	ck_assert(!main_ban_connection(m, &a));
	ck_assert_uint_eq(n_ban, 0);
}
END_TEST

START_TEST(test_ban_expires)
{
	struct sockaddr_storage a = v4("198.18.0.2");

	m->cfg->ban_time = 1;
	wrong_password("198.18.0.2");
	wrong_password("198.18.0.2");
	ck_assert(main_ban_connection(m, &a));
	fake_now += 1;
	ck_assert(!main_ban_connection(m, &a));
	ck_assert_uint_eq(n_unban, 1);
}
END_TEST

/* The listing of points: "ip score" of the one entry, or "" when there is none. */
static const char *listed(char *buf)
{
	buf[0] = '\0';
	main_ban_list(m, false, names, buf);
	return buf;
}

/* max-ban-score 40 per ban-reset-time (1200 s) drains 1 point every 30 s: 20 points are
 * 10 after a quarter of ban-reset-time and gone after half of it. A fraction of a point
 * still shows as a point. */
START_TEST(test_score_drains)
{
	char list[256];

	m->cfg->max_ban_score = 40;
	m->cfg->ban_points_connection = 0;
	wrong_password("198.18.0.2");
	wrong_password("198.18.0.2");
	ck_assert_str_eq(listed(list), "198.18.0.2 20");
	fake_now += 300;
	ck_assert_str_eq(listed(list), "198.18.0.2 10");
	fake_now += 1;
	ck_assert_str_eq(listed(list), "198.18.0.2 10");
	fake_now += 269;
	ck_assert_str_eq(listed(list), "198.18.0.2 1");
	fake_now += 30;
	ck_assert_str_eq(listed(list), "");
}
END_TEST

/* Points that have drained count no more: 20, half of it drained, then 20 more is 30, no
 * ban at 40; the next 10 reach it. */
START_TEST(test_drained_points_do_not_ban)
{
	struct sockaddr_storage a = v4("198.18.0.2");
	char list[256];

	m->cfg->max_ban_score = 40;
	m->cfg->ban_points_connection = 0;
	wrong_password("198.18.0.2");
	wrong_password("198.18.0.2");
	fake_now += 300;
	wrong_password("198.18.0.2");
	wrong_password("198.18.0.2");
	ck_assert_str_eq(listed(list), "198.18.0.2 30");
	ck_assert_uint_eq(n_ban, 0);
	ck_assert(!main_ban_connection(m, &a));
	/* It drains on from the last points, not from the first. */
	fake_now += 150;
	ck_assert_str_eq(listed(list), "198.18.0.2 25");
	wrong_password("198.18.0.2");
	ck_assert_uint_eq(n_ban, 0);
	wrong_password("198.18.0.2");
	ck_assert_uint_eq(n_ban, 1);
	ck_assert(main_ban_connection(m, &a));
}
END_TEST

/* Points that add up to max-ban-score ban, though a fraction of one drained between
 * them: the score counts in whole points, rounded up, as it is shown. */
START_TEST(test_whole_points_ban)
{
	char list[256];

	m->cfg->max_ban_score = 40;
	m->cfg->ban_points_connection = 0;
	m->cfg->ban_points_wrong_password = 20;
	wrong_password("198.18.0.2");
	fake_now += 29;
	ck_assert_str_eq(listed(list), "198.18.0.2 20");
	wrong_password("198.18.0.2");
	ck_assert_uint_eq(n_ban, 1);
	ck_assert_str_eq(listed(list), "198.18.0.2 40");
}
END_TEST

/* ocserv's rule still holds: a score idle for ban-reset-time is forgotten, also one above
 * max-ban-score (which a reload that lowers it can leave), which draining alone would keep. */
START_TEST(test_reset_time_forgets)
{
	char list[256];

	m->cfg->max_ban_score = 100;
	m->cfg->ban_points_connection = 0;
	m->cfg->ban_points_wrong_password = 30;
	wrong_password("fd00:18:0:1::2");
	wrong_password("fd00:18:0:1::2");
	ck_assert_str_eq(listed(list), "fd00:18:0:1::/64 60");
	m->cfg->max_ban_score = 20;
	fake_now += 1199;
	ck_assert_str_eq(listed(list), "fd00:18:0:1::/64 41");
	fake_now += 1;
	ck_assert_str_eq(listed(list), "");
}
END_TEST

/* A ban lasts ban-time, however far its score drains meanwhile. */
START_TEST(test_ban_outlasts_its_score)
{
	struct sockaddr_storage a = v4("198.18.0.2");
	char list[256];

	m->cfg->ban_reset_time = 60;
	m->cfg->ban_points_connection = 0;
	wrong_password("198.18.0.2");
	wrong_password("198.18.0.2");
	ck_assert_uint_eq(n_ban, 1);
	fake_now += 120;
	ck_assert_str_eq(listed(list), "198.18.0.2 0");
	ck_assert(main_ban_connection(m, &a));
	fake_now += 179;
	ck_assert(main_ban_connection(m, &a));
	fake_now += 1;
	ck_assert(!main_ban_connection(m, &a));
	ck_assert_uint_eq(n_unban, 1);
	ck_assert_str_eq(listed(list), "");
}
END_TEST

START_TEST(test_table_is_bounded)
{
	unsigned all = 0;
	char ip[64];

	for (unsigned i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "fd00:%x:%x::1", i >> 16, i & 0xffff);
		wrong_password(ip);
	}
	main_ban_list(m, false, count, &all);
	ck_assert_uint_le(all, 16384);
	ck_assert_uint_gt(all, 0);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_two_wrong_passwords_ban},
	    {test_mapped_stays_ipv4},
	    {test_ipv6_per_prefix},
	    {test_ipv6_prefix_length},
	    {test_not_the_clients_fault},
	    {test_unban},
	    {test_off},
	    {test_ban_expires},
	    {test_score_drains},
	    {test_drained_points_do_not_ban},
	    {test_whole_points_ban},
	    {test_reset_time_forgets},
	    {test_ban_outlasts_its_score},
	    {test_table_is_bounded},
	    {NULL},
	};
	const struct check_case cases[] = {
	    /* test_table_is_bounded fills the table: beyond check's 4 s on a loaded
	     * machine, which is no failure of what it checks. */
	    {"ban", setup, teardown, 60, tests},
	    {NULL},
	};

	return check_main("ban", cases);
}
