#!/bin/bash
# README command (a): as root on a fresh Debian 12 machine, installs the dependencies,
# builds sluice (unless already built), and shows one VPN session end to end: two
# network namespaces, a generated certificate and demo user, sluiced in one namespace,
# the openconnect client in the other, a ping through the tunnel, the server's log
# lines about the session, then disconnect and clean-up.
# Environment: SKIP_APT=1 skips apt-get; SERVER=ocserv runs the same demo on ocserv.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
	echo "demo: run as root (it creates network namespaces and a TUN device)"
	exit 1
fi

if [ "${SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
	step "installing build and runtime dependencies (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q && apt-get install -y -q --no-install-recommends \
		build-essential autoconf automake libtool pkg-config libgnutls28-dev \
		libev-dev libtalloc-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev \
		libcap-dev check libinih-dev libcrypt-dev libxml2-dev libjansson-dev libedit-dev \
		libsystemd-dev libmicrohttpd-dev uthash-dev libnftables-dev liblz4-dev libsnmp-dev liboath-dev libradcli-dev libldap-dev \
		libpam0g-dev openconnect iproute2 iputils-ping \
		procps gnutls-bin || exit 1
fi

if [ "${SERVER:-sluiced}" != sluiced ]; then
	step "SERVER=$SERVER: not building sluice"
elif [ -x src/sluiced ] && [ -x src/sluice-worker ] && [ -x src/sluice-passwd ]; then
	step "sluice is already built"
else
	step "building sluice (autoreconf, configure, make)"
	autoreconf -fi && ./configure && make -j2 || {
		echo "demo: build failed"
		exit 1
	}
fi

export top_srcdir=$top top_builddir=$top
TEST_NAME=demo
. "$top/tests/integration/lib.sh"

step "creating namespaces $NS_SRV (server, $SRV_IP1) and $NS_C1 (client, $CLI_IP1)"
it_init

step "generating a CA and server certificate; user 'demo' with password 'demo-pw'"
make_certs
add_user demo demo-pw
log "server certificate pin: $PIN"

step "starting $SERVER in $NS_SRV"
write_config
start_server

step "connecting openconnect (--script tests/integration/vpnc-script) from $NS_C1 to https://$SRV_IP1:$PORT/"
start_client demo "$NS_C1" demo demo-pw
vpn_ip=$(wait_tunnel demo 20) || fail "the tunnel did not come up"
srv_ip=$(server_tun_ip "$vpn_ip")
log "tunnel up: client $vpn_ip, server side $srv_ip"

step "pinging $srv_ip through the tunnel"
ping_through "$NS_C1" "$srv_ip" 5 || fail "ping through the tunnel failed"

if [ "$SERVER" = sluiced ]; then
	step "what sluicectl reports about the session"
	"$top_builddir/src/sluicectl" -s "$WORK/occtl.sock" show users ||
		fail "sluicectl show users failed"
	"$top_builddir/src/sluicectl" -s "$WORK/occtl.sock" show user demo ||
		fail "sluicectl show user failed"
fi

step "disconnecting the client (SIGINT: the client sends a DISCONNECT)"
stop_client demo INT
sleep 1

step "server log lines about the session"
if [ "$SERVER" = sluiced ]; then
	grep -E 'auth (ok|failed): |session (start|end): ' "$SERVER_LOG"
else
	grep -E 'demo|user (logged in|disconnected)' "$SERVER_LOG"
fi

step "cleaning up (server, namespaces, temporary files)"
pass "demo finished"
