#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: without listen-host, one IPv6 socket each for TCP and UDP serves both
# families. An IPv4 client and an IPv6 client log in at once and both establish DTLS
# (the IPv4 one through the dual-stack UDP socket, as ::ffff:a.b.c.d); pings through
# each tunnel travel as UDP datagrams from that client's own address. The IPv4 client
# shows as a.b.c.d and a.b.c.d:port (never ::ffff:), the IPv6 one as [addr]:port; the
# IPv6 session's MTU is 20 bytes below the IPv4 one's (a 40-byte IPv6 header, not 20).
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq nft
NET6=yes
it_init
require_ctl
CLIENT_DTLS=yes
make_certs
add_user alice alice-pw
# mtu = 0: each session's MTU as the worker computes it for its path.
write_config "mtu = 0"
sed -i '/^listen-host *=/d' "$SERVER_CONF"
grep -q listen-host "$SERVER_CONF" && fail "listen-host still set"
start_server

for proto in t u; do
	v6=$(ip netns exec "$NS_SRV" ss -Hln$proto -f inet6 "sport = :$PORT" | wc -l)
	v4=$(ip netns exec "$NS_SRV" ss -Hln$proto -f inet "sport = :$PORT" | wc -l)
	[ "$v6" = 1 ] && [ "$v4" = 0 ] || fail "$proto: $v6 IPv6 and $v4 IPv4 sockets on port $PORT"
done
log "one IPv6 socket each for TCP and UDP"

udp_peer_watch "$CLI_IP1"
udp_peer_watch "$CLI6_IP2"
start_client c4 "$NS_C1" alice alice-pw
CLIENT_FAMILY=6 start_client c6 "$NS_C2" alice alice-pw
for c in c4 c6; do
	suite=$(wait_dtls $c 15) || fail "$c established no DTLS session"
	log "$c: DTLS $suite"
done
vpn4=$(wait_tunnel c4 15) || fail "no tunnel for the IPv4 client"
vpn6=$(wait_tunnel c6 15) || fail "no tunnel for the IPv6 client"

pings=10
for c in c4 c6; do
	if [ $c = c4 ]; then peer=$CLI_IP1 vpn=$vpn4 ns=$NS_C1; else peer=$CLI6_IP2 vpn=$vpn6 ns=$NS_C2; fi
	srv=$(server_tun_ip "$vpn") || fail "no server-side tun device with peer $vpn"
	before=$(udp_peer_packets "$peer")
	out=$(ping_through "$ns" "$srv" $pings) || fail "$c: ping through the tunnel failed: $out"
	expect_udp "$before" "$(udp_peer_packets "$peer")" $pings "$c ($peer), $pings pings"
done

server_log_has "session start: .* client=$CLI_IP1:[0-9]+ device=" 5 ||
	fail "no 'session start' with client=$CLI_IP1:port"
server_log_has "session start: .* client=\[$CLI6_IP2\]:[0-9]+ device=" 5 ||
	fail "no 'session start' with client=[$CLI6_IP2]:port"
server_log_has "worker [0-9]+ \(alice@$CLI_IP1:[0-9]+\)" 5 || fail "no worker label alice@$CLI_IP1:port"
grep -F '::ffff:' "$SERVER_LOG" && fail "an IPv4 client logged in its IPv4-mapped form"

ctl --json show users >"$WORK/users.json" || fail "sluicectl show users failed"
jq -e --arg a "$CLI_IP1" --arg b "$CLI6_IP2" '[.[]["Remote IP"]] | sort == ([$a, $b] | sort)' \
	"$WORK/users.json" >/dev/null || fail "show users: $(cat "$WORK/users.json")"
mtu4=$(jq --arg a "$CLI_IP1" '.[] | select(.["Remote IP"] == $a) | .MTU' "$WORK/users.json")
mtu6=$(jq --arg a "$CLI6_IP2" '.[] | select(.["Remote IP"] == $a) | .MTU' "$WORK/users.json")
log "MTU over IPv4 $mtu4, over IPv6 $mtu6"
[ -n "$mtu4" ] && [ "$((mtu4 - mtu6))" = 20 ] || fail "MTU over IPv4 $mtu4, over IPv6 $mtu6"
# The clients take it; over IPv6 openconnect 9.01 may go lower on its own: it also caps
# the DTLS MTU by the socket's path MTU with a UDP header of 20 bytes, 12 below 1414.
grep -q "No response to size\|declare MTU is" "${CLIENT_LOG[c4]}" "${CLIENT_LOG[c6]}" &&
	fail "a client's MTU probes went unanswered"
for c in c4 c6; do
	mtu=$(ip -n "${CLIENT_NS[$c]}" -o link show dev "${CLIENT_IF[$c]}" |
		sed -n 's/.* mtu \([0-9]*\).*/\1/p')
	log "$c: tunnel MTU $mtu"
	if [ $c = c4 ]; then
		[ "$mtu" = "$mtu4" ] || fail "c4: tunnel MTU $mtu, the server said $mtu4"
	else
		[ "${mtu:-0}" -le "$mtu6" ] && [ "$mtu" -ge 1280 ] ||
			fail "c6: tunnel MTU ${mtu:-unknown}, the server said $mtu6"
	fi
done
stop_client c4
stop_client c6
pass
