#include "config.h"
#include "main/tun.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "common/inet_csum.h"

#define SKIP     77
#define PING_LEN 60

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* An IPv4-only tunnel. */
static struct tun_addrs *v4(struct in_addr local, struct in_addr peer)
{
	static struct tun_addrs a;

	a = (struct tun_addrs){.has4 = true, .local4 = local, .peer4 = peer};
	return &a;
}

static int if_get(const char *name, unsigned long req, struct ifreq *ifr)
{
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret;

	ck_assert_int_ge(sk, 0);
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	ret = ioctl(sk, req, ifr) < 0 ? -errno : 0;
	close(sk);
	return ret;
}

static struct in_addr if_inet(const char *name, unsigned long req)
{
	struct ifreq ifr;
	struct sockaddr_in sin;

	ck_assert_int_eq(if_get(name, req, &ifr), 0);
	memcpy(&sin, &ifr.ifr_addr, sizeof(sin));
	ck_assert_int_eq(sin.sin_family, AF_INET);
	return sin.sin_addr;
}

static void check_device(const char *name, const char *local, const char *peer, int mtu)
{
	struct ifreq ifr;

	ck_assert_uint_eq(if_inet(name, SIOCGIFADDR).s_addr, ip(local).s_addr);
	ck_assert_uint_eq(if_inet(name, SIOCGIFDSTADDR).s_addr, ip(peer).s_addr);
	ck_assert_uint_eq(if_inet(name, SIOCGIFNETMASK).s_addr, ip("255.255.255.255").s_addr);
	ck_assert_int_eq(if_get(name, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, mtu);
	ck_assert_int_eq(if_get(name, SIOCGIFFLAGS, &ifr), 0);
	ck_assert(ifr.ifr_flags & IFF_UP);
	ck_assert(ifr.ifr_flags & IFF_POINTOPOINT);
}

static bool device_exists(const char *name)
{
	struct ifreq ifr;
	int ret = if_get(name, SIOCGIFINDEX, &ifr);

	ck_assert(ret == 0 || ret == -ENODEV);
	return ret == 0;
}

START_TEST(test_create_two)
{
	char n0[IFNAMSIZ], n1[IFNAMSIZ];
	int fd0, fd1;

	fd0 = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.2")), n0);
	ck_assert_msg(fd0 >= 0, "tun_create: %s", strerror(-fd0));
	fd1 = tun_create("vpns", 1300, v4(ip("198.19.0.1"), ip("198.19.0.3")), n1);
	ck_assert_msg(fd1 >= 0, "tun_create: %s", strerror(-fd1));
	ck_assert_str_eq(n0, "vpns0");
	ck_assert_str_eq(n1, "vpns1");
	check_device(n0, "198.19.0.1", "198.19.0.2", 1400);
	check_device(n1, "198.19.0.1", "198.19.0.3", 1300);

	ck_assert(fcntl(fd0, F_GETFD) & FD_CLOEXEC);
	ck_assert(fcntl(fd0, F_GETFL) & O_NONBLOCK);

	ck_assert_int_eq(tun_set_mtu(n1, 1280), 0);
	check_device(n1, "198.19.0.1", "198.19.0.3", 1280);
	ck_assert_int_eq(tun_set_mtu(n1, 40), -EINVAL);
	ck_assert_int_eq(tun_set_mtu("vpns9", 1280), -ENODEV);
	close(fd0);
	ck_assert_int_eq(tun_delete(n0), 0);
	close(fd1);
	ck_assert_int_eq(tun_delete(n1), 0);
}
END_TEST


static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An ICMP echo request from the client (peer) to the server (local). */
static void make_ping(uint8_t pkt[PING_LEN], struct in_addr src, struct in_addr dst)
{
	memset(pkt, 0, PING_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, PING_LEN);
	put16(pkt + 4, 0x1234);
	pkt[8] = 64;
	pkt[9] = IPPROTO_ICMP;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	put16(pkt + 10, inet_csum(pkt, 20));
	pkt[20] = 8;
	put16(pkt + 24, 0x5c5c);
	put16(pkt + 26, 1);
	memset(pkt + 28, 0xa5, PING_LEN - 28);
	put16(pkt + 22, inet_csum(pkt + 20, PING_LEN - 20));
}

static void stats(const char *name, uint64_t v[4])
{
	int ret = tun_stats(name, &v[0], &v[1], &v[2], &v[3]);

	ck_assert_msg(ret == 0, "tun_stats: %s", strerror(-ret));
}

/* rx counts what the worker writes into the fd, tx what it reads from it: the
 * kernel counts tx when the packet leaves through the fd, not when queued. */
START_TEST(test_counters)
{
	char name[IFNAMSIZ];
	uint8_t ping[PING_LEN], reply[2048];
	struct in_addr local = ip("198.19.0.1"), peer = ip("198.19.0.2");
	struct pollfd pfd;
	uint64_t v[4]; /* rx_bytes, tx_bytes, rx_packets, tx_packets */
	ssize_t n;
	int fd;

	fd = tun_create("vpns", 1400, v4(local, peer), name);
	ck_assert_msg(fd >= 0, "tun_create: %s", strerror(-fd));
	stats(name, v);
	ck_assert_uint_eq(v[0] + v[1] + v[2] + v[3], 0);

	make_ping(ping, peer, local);
	ck_assert_int_eq(write(fd, ping, sizeof(ping)), PING_LEN);
	stats(name, v);
	ck_assert_uint_eq(v[0], PING_LEN);
	ck_assert_uint_eq(v[2], 1);

	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	n = read(fd, reply, sizeof(reply));
	ck_assert_int_eq(n, PING_LEN);
	ck_assert_int_eq(reply[9], IPPROTO_ICMP);
	ck_assert_int_eq(reply[20], 0); /* echo reply */
	ck_assert_mem_eq(reply + 12, &local, 4);
	ck_assert_mem_eq(reply + 16, &peer, 4);

	stats(name, v);
	ck_assert_uint_eq(v[0], PING_LEN);
	ck_assert_uint_eq(v[1], PING_LEN);
	ck_assert_uint_eq(v[2], 1);
	ck_assert_uint_eq(v[3], 1);
	close(fd);
	ck_assert_int_eq(tun_delete(name), 0);
}
END_TEST

/* The device outlives main's descriptor (the worker's, and the worker): its counters
 * stay readable by name until tun_delete(). */
START_TEST(test_persistent)
{
	char name[IFNAMSIZ], again[IFNAMSIZ];
	uint64_t v[4];
	int fd;

	fd = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.2")), name);
	ck_assert_int_ge(fd, 0);
	ck_assert(device_exists(name));
	close(fd);
	ck_assert(device_exists(name));
	ck_assert_int_eq(tun_stats(name, &v[0], &v[1], &v[2], &v[3]), 0);
	ck_assert_int_eq(tun_delete(name), 0);
	ck_assert(!device_exists(name));
	ck_assert_int_eq(tun_stats(name, &v[0], &v[1], &v[2], &v[3]), -ENODEV);
	ck_assert_int_eq(tun_delete(name), -ENODEV);

	fd = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.2")), again);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, again);
	close(fd);
	ck_assert_int_eq(tun_delete(again), 0);
}
END_TEST

/* Whether a device is up, and that it has no route left (its peer's /32 goes with it). */
static bool device_up(const char *name)
{
	char cmd[128];
	bool up;
	FILE *p;
	char line[256] = "";

	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s", name);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	up = fgets(line, sizeof(line), p) && strstr(line, ",UP");
	pclose(p);
	return up;
}

/* Retired devices go down at once and stay until the group is deleted in one request;
 * another device of this process stays. */
START_TEST(test_retire)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ];
	int fa, fb, fc;

	fa = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.2")), a);
	fb = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.3")), b);
	fc = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.4")), c);
	ck_assert(fa >= 0 && fb >= 0 && fc >= 0);
	close(fa);
	close(fb);
	close(fc);
	ck_assert(device_up(a));
	ck_assert_int_eq(tun_retire(a), 0);
	ck_assert_int_eq(tun_retire(b), 0);
	ck_assert(device_exists(a) && device_exists(b));
	ck_assert(!device_up(a) && !device_up(b) && device_up(c));
	ck_assert_int_eq(system("ip -4 route | grep -q '198.19.0.2 dev'"), 256);
	ck_assert_int_eq(system("ip -4 route | grep -q '198.19.0.4 dev'"), 0);
	ck_assert_int_eq(tun_delete_retired(), 0);
	ck_assert(!device_exists(a) && !device_exists(b));
	ck_assert(device_exists(c));
	/* Nothing retired: nothing to do. */
	ck_assert_int_eq(tun_delete_retired(), 0);
	ck_assert_int_eq(tun_retire("no-such-dev0"), -ENODEV);
	ck_assert_int_eq(tun_delete(c), 0);
}
END_TEST

/* The alias of a device, as `ip` shows it. */
static void alias_of(const char *name, char *out, size_t len)
{
	char cmd[128];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip -o link show dev %s", name);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	out[0] = '\0';
	if (fgets(out, (int)len, p) && strstr(out, "alias "))
		memmove(out, strstr(out, "alias ") + 6, strlen(strstr(out, "alias ") + 6) + 1);
	else
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/* Devices of a sluiced that is gone are deleted; this process's, and devices that are
 * not sluiced's, stay. */
START_TEST(test_delete_stale)
{
	char mine[IFNAMSIZ], gone[IFNAMSIZ], other[IFNAMSIZ], alias[512], want[64], cmd[160];
	int fds[3];

	fds[0] = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.2")), mine);
	fds[1] = tun_create("vpns", 1400, v4(ip("198.19.0.1"), ip("198.19.0.3")), gone);
	fds[2] = tun_create("other", 1400, v4(ip("198.19.0.1"), ip("198.19.0.4")), other);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_ge(fds[i], 0);
		close(fds[i]);
	}
	snprintf(want, sizeof(want), "sluiced %d", (int)getpid());
	alias_of(mine, alias, sizeof(alias));
	ck_assert_str_eq(alias, want);
	/* A pid above the kernel's limit runs nothing; an alias of another program. */
	snprintf(cmd, sizeof(cmd), "ip link set dev %s alias 'sluiced 99999999'", gone);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "ip link set dev %s alias 'wireguard 1'", other);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(tun_delete_stale(), 1);
	ck_assert(device_exists(mine));
	ck_assert(!device_exists(gone));
	ck_assert(device_exists(other));
	ck_assert_int_eq(tun_delete_stale(), 0);
	ck_assert_int_eq(tun_delete(mine), 0);
	ck_assert_int_eq(tun_delete(other), 0);
}
END_TEST

START_TEST(test_bad_arguments)
{
	const char *bad[] = {"", "vp%d", "vpn/", "vpn s", "vpn:", "elevenchars"};
	struct in_addr a = ip("198.19.0.1"), b = ip("198.19.0.2");
	char name[IFNAMSIZ];
	uint64_t v;
	int fd;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(tun_create(bad[i], 1400, v4(a, b), name), -EINVAL);
	ck_assert_int_eq(tun_create("vpns", TUN_MTU_MIN - 1, v4(a, b), name), -EINVAL);
	ck_assert_int_eq(tun_create("vpns", TUN_MTU_MAX + 1, v4(a, b), name), -EINVAL);
	ck_assert_int_eq(tun_create(NULL, 1400, v4(a, b), name), -EINVAL);
	ck_assert_int_eq(tun_stats("", &v, &v, &v, &v), -EINVAL);
	ck_assert_int_eq(tun_stats("sixteen-chars-xx", &v, &v, &v, &v), -EINVAL);
	ck_assert_int_eq(tun_set_mtu("", 1400), -EINVAL);

	fd = tun_create("tenchars-x", TUN_MTU_MAX, v4(a, b), name);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, "tenchars-x0");
	close(fd);
	ck_assert_int_eq(tun_delete(name), 0);
}
END_TEST

static void set_default_ipv6(bool on)
{
	int fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, on ? "0" : "1", 1), 1);
	close(fd);
}

/* True when the text file holds a line with both words (/proc/net tables). */
static bool proc_has(const char *path, const char *a, const char *b)
{
	char line[512];
	bool found = false;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) && strstr(line, b);
	fclose(f);
	return found;
}

/* An ICMPv6 echo request from src to dst, its checksum over the pseudo-header. */
static void make_ping6(uint8_t pkt[PING_LEN], const struct in6_addr *src,
		       const struct in6_addr *dst)
{
	uint8_t pseudo[40 + PING_LEN];
	size_t plen = PING_LEN - 40;

	memset(pkt, 0, PING_LEN);
	pkt[0] = 0x60;
	put16(pkt + 4, (uint16_t)plen);
	pkt[6] = IPPROTO_ICMPV6;
	pkt[7] = 64;
	memcpy(pkt + 8, src, 16);
	memcpy(pkt + 24, dst, 16);
	pkt[40] = 128; /* echo request */
	put16(pkt + 44, 0x5c5c);
	put16(pkt + 46, 1);
	memset(pkt + 48, 0xa5, PING_LEN - 48);
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, pkt + 8, 32);
	put16(pseudo + 34, (uint16_t)plen);
	pseudo[39] = IPPROTO_ICMPV6;
	memcpy(pseudo + 40, pkt + 40, plen);
	put16(pkt + 42, inet_csum(pseudo, 40 + plen));
}

/* A dual-stack device: the server's IPv6 address on it, the client's prefix routed to
 * it, and the kernel answers the client's ping from inside that prefix. */
START_TEST(test_ipv6)
{
	struct tun_addrs a = {.has4 = true, .local4 = ip("198.19.0.1"), .peer4 = ip("198.19.0.2")};
	uint8_t ping[PING_LEN], reply[2048];
	struct in6_addr src;
	struct pollfd pfd;
	char name[IFNAMSIZ];
	ssize_t n;
	int fd;

	set_default_ipv6(true);
	a.has6 = true;
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:19::1", &a.local6), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:19:0:2::", &a.peer6), 1);
	a.peer6_prefix = 64;
	ck_assert_int_eq(tun_create("vpns", TUN_MTU_MIN6 - 1, &a, name), -EINVAL);
	a.peer6_prefix = 129;
	ck_assert_int_eq(tun_create("vpns", 1400, &a, name), -EINVAL);
	a.peer6_prefix = 64;
	fd = tun_create("vpns", 1400, &a, name);
	ck_assert_msg(fd >= 0, "tun_create: %s", strerror(-fd));
	check_device(name, "198.19.0.1", "198.19.0.2", 1400);
	ck_assert(proc_has("/proc/net/if_inet6", "fd000019000000000000000000000001", name));
	ck_assert(proc_has("/proc/net/ipv6_route", "fd000019000000020000000000000000 40", name));

	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:19:0:2::1", &src), 1);
	make_ping6(ping, &src, &a.local6);
	/* The kernel takes the new address into use a moment later (its DAD work, skipped
	 * on a NOARP device, still runs first), and may send its own packets (router
	 * solicitations, MLD): ping until the reply comes, bounded. */
	n = 0;
	for (int i = 0; i < 50 && !(n == PING_LEN && reply[40] == 129); i++) {
		ck_assert_int_eq(write(fd, ping, sizeof(ping)), PING_LEN);
		pfd = (struct pollfd){.fd = fd, .events = POLLIN};
		while (poll(&pfd, 1, 100) == 1) {
			n = read(fd, reply, sizeof(reply));
			if (n == PING_LEN && reply[6] == IPPROTO_ICMPV6 && reply[40] == 129)
				break;
		}
	}
	ck_assert_int_eq(n, PING_LEN);
	ck_assert_int_eq(reply[40], 129); /* echo reply */
	ck_assert_mem_eq(reply + 8, &a.local6, 16);
	ck_assert_mem_eq(reply + 24, &src, 16);
	close(fd);
	ck_assert_int_eq(tun_delete(name), 0);

	/* IPv6 only. */
	a.has4 = false;
	fd = tun_create("vpns", 1280, &a, name);
	ck_assert_msg(fd >= 0, "tun_create: %s", strerror(-fd));
	close(fd);
	ck_assert_int_eq(tun_delete(name), 0);
	a.has6 = false;
	ck_assert_int_eq(tun_create("vpns", 1400, &a, name), -EINVAL);
	set_default_ipv6(false);
}
END_TEST

/* A fresh namespace keeps the host's interfaces out of reach; without IPv6
 * the devices send no router solicitations that would move the counters. */
static int enter_private_netns(void)
{
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "test_tun: skipped, needs root\n");
		return SKIP;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "test_tun: skipped, /dev/net/tun: %s\n", strerror(errno));
		return SKIP;
	}
	close(fd);
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_tun: skipped, unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return SKIP;
	}
	fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1) {
			fprintf(stderr, "test_tun: cannot disable IPv6: %s\n", strerror(errno));
			close(fd);
			return EXIT_FAILURE;
		}
		close(fd);
	}
	return 0;
}

int main(void)
{
	const struct check_test tests[] = {
	    {test_create_two},    {test_counters}, {test_persistent}, {test_delete_stale},
	    {test_bad_arguments}, {test_ipv6}, {test_retire}, {NULL},
	};
	const struct check_case cases[] = {
	    {"tun", NULL, NULL, 0, tests},
	    {NULL},
	};
	int ret = enter_private_netns();

	if (ret)
		return ret;
	return check_main("tun", cases);
}
