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

#define SKIP     77
#define PING_LEN 60

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
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

	fd0 = tun_create("vpns", ip("198.19.0.1"), ip("198.19.0.2"), 1400, n0);
	ck_assert_msg(fd0 >= 0, "tun_create: %s", strerror(-fd0));
	fd1 = tun_create("vpns", ip("198.19.0.1"), ip("198.19.0.3"), 1300, n1);
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
	close(fd1);
}
END_TEST

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

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
	put16(pkt + 10, csum(pkt, 20));
	pkt[20] = 8;
	put16(pkt + 24, 0x5c5c);
	put16(pkt + 26, 1);
	memset(pkt + 28, 0xa5, PING_LEN - 28);
	put16(pkt + 22, csum(pkt + 20, PING_LEN - 20));
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

	fd = tun_create("vpns", local, peer, 1400, name);
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
}
END_TEST

START_TEST(test_close_removes_device)
{
	char name[IFNAMSIZ], again[IFNAMSIZ];
	uint64_t v[4];
	int fd;

	fd = tun_create("vpns", ip("198.19.0.1"), ip("198.19.0.2"), 1400, name);
	ck_assert_int_ge(fd, 0);
	ck_assert(device_exists(name));
	close(fd);
	ck_assert(!device_exists(name));
	ck_assert_int_eq(tun_stats(name, &v[0], &v[1], &v[2], &v[3]), -ENODEV);

	fd = tun_create("vpns", ip("198.19.0.1"), ip("198.19.0.2"), 1400, again);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, again);
	close(fd);
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
		ck_assert_int_eq(tun_create(bad[i], a, b, 1400, name), -EINVAL);
	ck_assert_int_eq(tun_create("vpns", a, b, TUN_MTU_MIN - 1, name), -EINVAL);
	ck_assert_int_eq(tun_create("vpns", a, b, TUN_MTU_MAX + 1, name), -EINVAL);
	ck_assert_int_eq(tun_create(NULL, a, b, 1400, name), -EINVAL);
	ck_assert_int_eq(tun_stats("", &v, &v, &v, &v), -EINVAL);
	ck_assert_int_eq(tun_stats("sixteen-chars-xx", &v, &v, &v, &v), -EINVAL);
	ck_assert_int_eq(tun_set_mtu("", 1400), -EINVAL);

	fd = tun_create("tenchars-x", a, b, TUN_MTU_MAX, name);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(name, "tenchars-x0");
	close(fd);
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
	    {test_create_two},    {test_counters}, {test_close_removes_device},
	    {test_bad_arguments}, {NULL},
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
