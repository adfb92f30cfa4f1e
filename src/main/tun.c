#include "config.h"
#include "main/tun.h"

#include "common/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/route.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Configuration uses the classic interface ioctls rather than rtnetlink: for
 * one IPv4 point-to-point address, an IPv6 address and its route, an MTU and a flag
 * they are a few fixed calls with no messages to build or parse. Counters have no ioctl on Linux,
 * and /sys/class/net shows the namespace sysfs was mounted in rather than the
 * caller's, so tun_stats asks rtnetlink for the one device it needs; the alias that
 * marks a device as this process's, and deleting one, are rtnetlink requests too. */

static bool prefix_valid(const char *prefix)
{
	size_t len = strnlen(prefix, TUN_PREFIX_MAX + 1);

	if (len == 0 || len > TUN_PREFIX_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = prefix[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && c != '_' && c != '.')
			return false;
	}
	return true;
}

static bool name_valid(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	return len > 0 && len < IFNAMSIZ;
}

static bool mtu_valid(unsigned mtu)
{
	return mtu >= TUN_MTU_MIN && mtu <= TUN_MTU_MAX;
}

static int if_ioctl(int sk, unsigned long req, struct ifreq *ifr)
{
	return ioctl(sk, req, ifr) < 0 ? -errno : 0;
}

static int set_inet(int sk, const char *name, unsigned long req, struct in_addr a)
{
	struct ifreq ifr = {0};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};

	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	return if_ioctl(sk, req, &ifr);
}

static int set_mtu(int sk, const char *name, unsigned mtu)
{
	struct ifreq ifr = {0};

	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	ifr.ifr_mtu = (int)mtu;
	return if_ioctl(sk, SIOCSIFMTU, &ifr);
}

static int set_up(int sk, const char *name)
{
	struct ifreq ifr = {0};
	int ret;

	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	ret = if_ioctl(sk, SIOCGIFFLAGS, &ifr);
	if (ret < 0)
		return ret;
	ifr.ifr_flags |= IFF_UP;
	return if_ioctl(sk, SIOCSIFFLAGS, &ifr);
}

/* The kernel's IPv6 interface request (linux/ipv6.h, which clashes with netinet/in.h). */
struct tun_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int ipv6_route(int sk, int ifindex, const struct in6_addr *net, unsigned prefix, bool add)
{
	struct in6_rtmsg rt = {0};

	rt.rtmsg_dst = *net;
	rt.rtmsg_dst_len = (uint16_t)prefix;
	rt.rtmsg_ifindex = ifindex;
	rt.rtmsg_flags = RTF_UP | (prefix == 128 ? RTF_HOST : 0);
	rt.rtmsg_metric = 1;
	return ioctl(sk, add ? SIOCADDRT : SIOCDELRT, &rt) < 0 ? -errno : 0;
}

/* The server's address (a /128) and a route to the client's prefix. The device must be
 * up with an MTU of at least 1280, or the kernel keeps IPv6 off on it. */
static int set_inet6(const char *name, const struct tun_addrs *a)
{
	struct tun_in6_ifreq r = {.addr = a->local6, .prefixlen = 128};
	int sk, ret;

	r.ifindex = (int)if_nametoindex(name);
	if (!r.ifindex)
		return -errno;
	sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	ret = ioctl(sk, SIOCSIFADDR, &r) < 0 ? -errno : 0;
	if (ret == 0)
		ret = ipv6_route(sk, r.ifindex, &a->peer6, a->peer6_prefix, true);
	close(sk);
	return ret;
}

/* One rtnetlink request about the link called name, with attr (type, payload, len)
 * when type is not 0, and the kernel's acknowledgement. 0 or the kernel's -errno. */
/* Appends one attribute to the request nh, whose buffer the caller sized for it. */
static void put_attr(struct nlmsghdr *nh, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len);
}

/* One rtnetlink link request: on the device of that name (none: all the request's
 * attribute selects), with attribute type (0: none) and the interface flags in change
 * set to those of if_flags. */
static int link_request(uint16_t msg_type, uint16_t flags, const char *name, uint16_t type,
			const void *payload, size_t len, unsigned if_flags, unsigned change)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[RTA_SPACE(IFNAMSIZ) + RTA_SPACE(TUN_ALIAS_MAX)];
	} req = {0};
	union {
		struct nlmsghdr nh;
		char buf[1024];
	} resp;
	size_t namelen = name ? strlen(name) : 0;
	ssize_t n;
	int sk, ret;

	if (len > TUN_ALIAS_MAX)
		return -EINVAL;
	req.nh.nlmsg_type = msg_type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_flags = if_flags;
	req.ifi.ifi_change = change;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	if (name)
		put_attr(&req.nh, IFLA_IFNAME, name, namelen + 1);
	if (type)
		put_attr(&req.nh, type, payload, len);
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sk < 0)
		return -errno;
	ret = send(sk, &req, req.nh.nlmsg_len, 0) < 0 ? -errno : 0;
	/* The kernel answers while send() runs: the acknowledgement is already queued. */
	n = ret ? 0 : recv(sk, &resp, sizeof(resp), MSG_DONTWAIT);
	if (!ret && n < 0)
		ret = -errno;
	else if (!ret && (!NLMSG_OK(&resp.nh, (size_t)n) || resp.nh.nlmsg_type != NLMSG_ERROR ||
			  resp.nh.nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))))
		ret = -EPROTO;
	else if (!ret)
		ret = ((const struct nlmsgerr *)NLMSG_DATA(&resp.nh))->error;
	close(sk);
	return ret;
}

int tun_delete(const char *name)
{
	if (!name || !name_valid(name))
		return -EINVAL;
	return link_request(RTM_DELLINK, 0, name, 0, NULL, 0, 0, 0);
}

/* The group of this sluiced's devices whose sessions ended: main's PID with the top bit
 * set, which no other running sluiced has (PIDs stay below 2^22). */
static uint32_t retired_group(void)
{
	return 0x80000000u | (uint32_t)getpid();
}

int tun_retire(const char *name)
{
	uint32_t group = retired_group();

	if (!name || !name_valid(name))
		return -EINVAL;
	/* Down at once: its routes go with it, so that its session's address may be routed
	 * to a new device before this one is deleted. */
	return link_request(RTM_NEWLINK, 0, name, IFLA_GROUP, &group, sizeof(group), 0, IFF_UP);
}

int tun_delete_retired(void)
{
	uint32_t group = retired_group();
	int ret = link_request(RTM_DELLINK, 0, NULL, IFLA_GROUP, &group, sizeof(group), 0, 0);

	return ret == -ENODEV ? 0 : ret;
}

/* A session without IPv6 gets none on its device: no link-local address, so the kernel
 * sends the client no router solicitations and MLD reports (which woke the worker and
 * crossed the tunnel every few seconds), and the device adds no routes to the IPv6
 * table, which the kernel walks at every device's MTU change. Nothing to do when the
 * kernel has no IPv6. */
static int disable_ipv6(const char *name)
{
	char path[64 + IFNAMSIZ];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (write(fd, "1", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

int tun_create(const char *prefix, unsigned mtu, const struct tun_addrs *a, char name[IFNAMSIZ])
{
	struct ifreq ifr = {0};
	struct in_addr host_mask = {.s_addr = htonl(0xffffffffu)};
	int fd = -1, sk = -1, ret;

	if (!prefix || !name || !a || !prefix_valid(prefix) || !mtu_valid(mtu) ||
	    (!a->has4 && !a->has6) || (a->has6 && (mtu < TUN_MTU_MIN6 || a->peer6_prefix > 128)))
		return -EINVAL;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s%%d", prefix);
	ret = if_ioctl(fd, TUNSETIFF, &ifr);
	if (ret < 0)
		goto out;
	/* The kernel keeps the device when main hands its fd over, and its counters when
	 * the worker dies; tun_delete() ends it. The alias says whose it is. */
	ret = ioctl(fd, TUNSETPERSIST, 1) < 0 ? -errno : 0;
	if (ret == 0) {
		char alias[TUN_ALIAS_MAX];
		int n = snprintf(alias, sizeof(alias), "%s%d", TUN_ALIAS_PREFIX, (int)getpid());

		ret = link_request(RTM_NEWLINK, 0, ifr.ifr_name, IFLA_IFALIAS, alias, (size_t)n, 0, 0);
	}
	if (ret == 0 && !a->has6)
		ret = disable_ipv6(ifr.ifr_name);
	if (ret < 0)
		goto out;

	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		ret = -errno;
		goto out;
	}
	/* The address first: the kernel gives a point-to-point device a /32 and
	 * the destination then names the peer; the mask is set anyway so the
	 * result does not rest on that default. */
	ret = 0;
	if (a->has4) {
		ret = set_inet(sk, ifr.ifr_name, SIOCSIFADDR, a->local4);
		if (ret == 0)
			ret = set_inet(sk, ifr.ifr_name, SIOCSIFDSTADDR, a->peer4);
		if (ret == 0)
			ret = set_inet(sk, ifr.ifr_name, SIOCSIFNETMASK, host_mask);
	}
	if (ret == 0)
		ret = set_mtu(sk, ifr.ifr_name, mtu);
	if (ret == 0)
		ret = set_up(sk, ifr.ifr_name);
	if (ret == 0 && a->has6)
		ret = set_inet6(ifr.ifr_name, a);
	if (ret < 0)
		goto out;

	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	ret = fd;
	fd = -1;
out:
	/* A half-configured device goes with its fd once it is not persistent. */
	if (sk >= 0)
		close(sk);
	if (fd >= 0) {
		ioctl(fd, TUNSETPERSIST, 0);
		close(fd);
	}
	return ret;
}

int tun_set_mtu(const char *name, unsigned mtu)
{
	char ifname[IFNAMSIZ] = {0};
	int sk, ret;

	if (!name || !name_valid(name) || !mtu_valid(mtu))
		return -EINVAL;
	memcpy(ifname, name, strlen(name));
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	ret = set_mtu(sk, ifname, mtu);
	close(sk);
	return ret;
}

/* Finds IFLA_STATS64 in one RTM_NEWLINK reply of len bytes. The reply comes
 * from the kernel, but it is still walked with bounds checks at every step. */
static int parse_link_reply(const struct nlmsghdr *nh, size_t len, uint32_t seq,
			    struct rtnl_link_stats64 *st)
{
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	unsigned int rtalen;

	if (!NLMSG_OK(nh, len) || nh->nlmsg_seq != seq)
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *err = NLMSG_DATA(nh);

		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*err)) || err->error >= 0)
			return -EPROTO;
		return err->error;
	}
	if (nh->nlmsg_type != RTM_NEWLINK || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EPROTO;

	ifi = NLMSG_DATA(nh);
	rta = IFLA_RTA(ifi);
	rtalen = IFLA_PAYLOAD(nh);
	for (; RTA_OK(rta, rtalen); rta = RTA_NEXT(rta, rtalen)) {
		size_t plen = RTA_PAYLOAD(rta);

		if (rta->rta_type != IFLA_STATS64)
			continue;
		/* Newer kernels append fields; the ones read here come first. */
		if (plen < offsetof(struct rtnl_link_stats64, rx_errors))
			return -EPROTO;
		memcpy(st, RTA_DATA(rta), plen < sizeof(*st) ? plen : sizeof(*st));
		return 0;
	}
	return -EPROTO;
}

int tun_stats(const char *name, uint64_t *rx_bytes, uint64_t *tx_bytes, uint64_t *rx_packets,
	      uint64_t *tx_packets)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attr[RTA_SPACE(IFNAMSIZ)];
	} req = {0};
	union {
		struct nlmsghdr nh;
		char buf[16384];
	} resp;
	struct rtnl_link_stats64 st = {0};
	size_t namelen;
	ssize_t n;
	int sk, ret;

	if (!name || !name_valid(name) || !rx_bytes || !tx_bytes || !rx_packets || !tx_packets)
		return -EINVAL;
	namelen = strlen(name);

	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	/* Looked up by name, so no index can go stale between two calls. */
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	put_attr(&req.nh, IFLA_IFNAME, name, namelen + 1);

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sk < 0)
		return -errno;
	if (send(sk, &req, req.nh.nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	/* The kernel queues the reply while send() runs, so this never waits
	 * (main's event loop must not block). */
	n = recv(sk, &resp, sizeof(resp), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	if ((size_t)n > sizeof(resp)) {
		ret = -EMSGSIZE;
		goto out;
	}
	ret = parse_link_reply(&resp.nh, (size_t)n, req.nh.nlmsg_seq, &st);
	if (ret < 0)
		goto out;

	*rx_bytes = st.rx_bytes;
	*tx_bytes = st.tx_bytes;
	*rx_packets = st.rx_packets;
	*tx_packets = st.tx_packets;
out:
	close(sk);
	return ret;
}

int tun_route(const char *name, int family, const void *net, unsigned prefix, bool add)
{
	struct rtentry rt = {0};
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
	int sk, ret;

	if (!name || !net || !name_valid(name) || prefix > (family == AF_INET6 ? 128u : 32u))
		return -EINVAL;
	if (family == AF_INET6) {
		int ifindex = (int)if_nametoindex(name);

		if (!ifindex)
			return -errno;
		sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (sk < 0)
			return -errno;
		ret = ipv6_route(sk, ifindex, net, prefix, add);
		close(sk);
		return ret;
	}
	dst->sin_family = AF_INET;
	memcpy(&dst->sin_addr, net, 4);
	mask->sin_family = AF_INET;
	mask->sin_addr.s_addr = ipv4_prefix_mask(prefix);
	rt.rt_flags = RTF_UP | (prefix == 32 ? RTF_HOST : 0);
	rt.rt_dev = (char *)name;
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -errno;
	ret = ioctl(sk, add ? SIOCADDRT : SIOCDELRT, &rt) < 0 ? -errno : 0;
	close(sk);
	return ret;
}

/* Whether pid is a running sluiced (its command name). */
static bool sluiced_runs(long pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "sluiced") == 0;
}

/* The name of one RTM_NEWLINK of a dump if its alias names a sluiced that is gone. */
static bool stale_link(const struct nlmsghdr *nh, char name[IFNAMSIZ])
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const struct rtattr *rta = IFLA_RTA(ifi);
	unsigned int rtalen = IFLA_PAYLOAD(nh);
	char alias[TUN_ALIAS_MAX + 1] = "";
	char *end;
	long pid;

	name[0] = '\0';
	for (; RTA_OK(rta, rtalen); rta = RTA_NEXT(rta, rtalen)) {
		size_t plen = RTA_PAYLOAD(rta);

		if (rta->rta_type == IFLA_IFNAME && plen > 0 && plen <= IFNAMSIZ)
			snprintf(name, IFNAMSIZ, "%.*s", (int)plen, (const char *)RTA_DATA(rta));
		else if (rta->rta_type == IFLA_IFALIAS && plen <= TUN_ALIAS_MAX)
			snprintf(alias, sizeof(alias), "%.*s", (int)plen, (const char *)RTA_DATA(rta));
	}
	if (!name[0] || strncmp(alias, TUN_ALIAS_PREFIX, strlen(TUN_ALIAS_PREFIX)) != 0)
		return false;
	pid = strtol(alias + strlen(TUN_ALIAS_PREFIX), &end, 10);
	if (*end || pid <= 0 || pid == (long)getpid())
		return false;
	return !sluiced_runs(pid);
}

int tun_delete_stale(void)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {.nh = {.nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 2},
		 .ifi = {.ifi_family = AF_UNSPEC}};
	static char buf[32768];
	char (*names)[IFNAMSIZ] = NULL;
	size_t n_names = 0;
	int sk, ret = 0, deleted = 0;
	bool done = false;

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sk < 0)
		return -errno;
	if (send(sk, &req, req.nh.nlmsg_len, 0) < 0)
		ret = -errno;
	/* At start-up, before the event loop: the dump is read to its end. */
	while (!ret && !done) {
		ssize_t len = recv(sk, buf, sizeof(buf), 0);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;

		if (len <= 0) {
			ret = len < 0 ? -errno : -EPROTO;
			break;
		}
		for (; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
			char name[IFNAMSIZ];

			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWLINK ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) ||
			    !stale_link(nh, name))
				continue;
			names = realloc(names, (n_names + 1) * sizeof(*names));
			if (!names) {
				ret = -ENOMEM;
				break;
			}
			memcpy(names[n_names++], name, IFNAMSIZ);
		}
	}
	close(sk);
	for (size_t i = 0; i < n_names; i++)
		if (tun_delete(names[i]) == 0)
			deleted++;
	free(names);
	return ret < 0 ? ret : deleted;
}
