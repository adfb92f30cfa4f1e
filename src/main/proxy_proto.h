/* The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a
 * load balancer sends ahead of a client's bytes when listen-proxy-proto is on: who the
 * client is and which address it connected to. main reads it before any TLS, so that
 * bans, limits, logs, scripts and sec see the client's own address. Only TCP over IPv4
 * and IPv6 is taken; LOCAL (v2) and UNKNOWN (v1) say the connection is the balancer's
 * own, such as a health check. Anything else is refused. */
#ifndef SLUICE_PROXY_PROTO_H
#define SLUICE_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PROXY_V1_MAX  107 /* "PROXY TCP6 " + two addresses and ports + CRLF */
#define PROXY_V2_HEAD 16  /* signature, version and command, family, length */
/* Addresses of two IPv6 endpoints (36 bytes) and room for the balancer's TLVs: the
 * bound the specification recommends to receivers. */
#define PROXY_V2_MAX 536
#define PROXY_MAX    PROXY_V2_MAX

struct proxy_addrs {
	bool local; /* the balancer's own connection: no addresses follow */
	struct sockaddr_storage src, dst;
};

/* Parses the header at the start of buf[0..len). Returns its length when it is
 * complete and valid, 0 when what is there is a valid beginning of one, or -EINVAL
 * with *why saying what is wrong. Reads nothing beyond the header's own bytes. */
int proxy_proto_parse(const uint8_t *buf, size_t len, struct proxy_addrs *out, const char **why);

/* How many of the bytes buf[0..len), peeked from a socket, belong to the header: all
 * of them until it is complete, then exactly its length. Reading only these leaves the
 * client's first TLS bytes in the socket for the worker. */
size_t proxy_proto_header_end(const uint8_t *buf, size_t len);

#endif
