/* The budget of connections that have not authenticated (src/main/preauth.c) with a
 * main_ctx of its own: the per-address cap (IPv6 per prefix, an IPv4-mapped client as
 * IPv4), the global cap that ends the oldest connection past tls-handshake-timeout, and
 * the slot given back once. */
#include "config.h"
#include "main/preauth.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "main/main.h"

#include "check_main.h"

static struct main_ctx *m;

static void record_signal(struct main_worker *w, int sig)
{
	w->signals_sent |= 1u << sig;
}

static void setup(void)
{
	m = talloc_zero(NULL, struct main_ctx);
	m->cfg = talloc_zero(m, struct sluice_config);
	m->cfg->max_preauth_per_ip = 2;
	m->cfg->max_preauth_clients = 4;
	m->cfg->tls_handshake_timeout = 10;
	m->cfg->auth_timeout = 60;
	m->cfg->ban_ipv6_prefix = 64;
	m->loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_int_eq(main_preauth_init(m, record_signal), 0);
}

static void teardown(void)
{
	ev_loop_destroy(m->loop);
	talloc_free(m);
}

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;

	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
	} else {
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	}
	return ss;
}

/* A worker of a client at ip, spawned age seconds ago, admitted and counted. */
static struct main_worker *spawn(const char *ip, double age)
{
	struct sockaddr_storage ss = addr(ip);
	struct main_worker *w = talloc_zero(m, struct main_worker);
	char text[INET6_ADDRSTRLEN];
	struct netaddr a;
	unsigned port;

	ck_assert_int_eq(main_preauth_admit(m, &ss), 0);
	netaddr_from_sockaddr(&ss, &a, &port);
	snprintf(w->client_ip, sizeof(w->client_ip), "%s", netaddr_text(&a, text, sizeof(text)));
	snprintf(w->label, sizeof(w->label), "worker (%s)", w->client_ip);
	w->m = m;
	w->spawned = ev_now(m->loop) - age;
	main_preauth_add(w);
	ck_assert(w->preauth);
	return w;
}

static int admit(const char *ip)
{
	struct sockaddr_storage ss = addr(ip);

	return main_preauth_admit(m, &ss);
}

START_TEST(test_per_address)
{
	struct main_worker *a = spawn("198.18.0.2", 0);

	spawn("198.18.0.2", 0);
	ck_assert_int_eq(admit("198.18.0.2"), -EBUSY);
	/* the dual-stack listener's form of the same client */
	ck_assert_int_eq(admit("::ffff:198.18.0.2"), -EBUSY);
	ck_assert_int_eq(admit("198.18.0.3"), 0);
	main_preauth_done(a);
	main_preauth_done(a);
	ck_assert_uint_eq(main_preauth_count(m), 1);
	ck_assert_int_eq(admit("198.18.0.2"), 0);
}
END_TEST

START_TEST(test_ipv6_prefix)
{
	spawn("fd00:18:0:1::2", 0);
	spawn("fd00:18:0:1::3", 0);
	ck_assert_int_eq(admit("fd00:18:0:1::ffff"), -EBUSY);
	ck_assert_int_eq(admit("fd00:18:0:2::2"), 0);
	m->cfg->ban_ipv6_prefix = 128;
	ck_assert_int_eq(admit("fd00:18:0:1::4"), 0);
}
END_TEST

START_TEST(test_full_young)
{
	spawn("198.18.0.2", 5);
	spawn("198.18.0.3", 4);
	spawn("198.18.0.4", 3);
	spawn("198.18.0.5", 2);
	ck_assert_int_eq(admit("198.18.0.6"), -EBUSY);
	ck_assert_uint_eq(main_preauth_count(m), 4);
	m->cfg->max_preauth_clients = 0;
	ck_assert_int_eq(admit("198.18.0.6"), 0);
}
END_TEST

START_TEST(test_full_oldest_goes)
{
	struct main_worker *old = spawn("198.18.0.2", 30);
	struct main_worker *older = spawn("198.18.0.3", 40);
	struct main_worker *young = spawn("198.18.0.4", 1);

	spawn("198.18.0.5", 1);
	/* The first one counted goes first: they are kept in the order they came. */
	ck_assert_int_eq(admit("198.18.0.6"), 0);
	ck_assert(!old->preauth);
	ck_assert(old->signals_sent & (1u << SIGKILL));
	ck_assert(older->preauth && young->preauth);
	ck_assert_uint_eq(main_preauth_count(m), 3);
	/* its address's share is free again */
	spawn("198.18.0.2", 0);
	spawn("198.18.0.2", 0);
	ck_assert_int_eq(admit("198.18.0.2"), -EBUSY);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_per_address},
	    {test_ipv6_prefix},
	    {test_full_young},
	    {test_full_oldest_goes},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"preauth", setup, teardown, 0, tests},
	    {NULL},
	};

	return check_main("preauth", cases);
}
