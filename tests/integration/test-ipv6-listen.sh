#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: listen-host is an IPv6 address (udp-listen-host unset, so DTLS listens
# there too). A client reaches the server over IPv6, establishes DTLS, and pings through
# the tunnel travel as UDP datagrams between the two IPv6 addresses. The client shows as
# [addr]:port in the log lines that name a port (auth, session start, the worker's
# label), as its bare address in sluicectl (Remote IP) and in the audit log (client_ip,
# client_port apart). An IPv4 client finds nothing listening.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq nft
NET6=yes
it_init
require_ctl
CLIENT_DTLS=yes
AUDIT=$WORK/audit.log
setup_server "listen-host = $SRV6_IP1
audit-log = $AUDIT"

for proto in t u; do
	socks=$(ip netns exec "$NS_SRV" ss -Hln$proto "sport = :$PORT")
	[ "$(wc -l <<<"$socks")" = 1 ] && grep -q "\[$SRV6_IP1\]:$PORT" <<<"$socks" ||
		fail "$proto: not one socket on [$SRV6_IP1]:$PORT: $socks"
done
log "TCP and UDP listen on [$SRV6_IP1]:$PORT only"

udp_peer_watch "$CLI6_IP1"
CLIENT_FAMILY=6 start_client c1 "$NS_C1" alice alice-pw
suite=$(wait_dtls c1 15) || fail "the IPv6 client established no DTLS session"
log "DTLS over IPv6: $suite"
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for the IPv6 client"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server-side tun device with peer $vpn_ip"
server_dtls_logged

pings=20
before=$(udp_peer_packets "$CLI6_IP1")
out=$(ping_through "$NS_C1" "$srv_ip" $pings) || fail "ping through the tunnel failed: $out"
log "ping: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
expect_udp "$before" "$(udp_peer_packets "$CLI6_IP1")" $pings "[$CLI6_IP1] during $pings pings"

# [addr]:port wherever a port follows the address.
client="\[$CLI6_IP1\]:[0-9]+"
server_log_has "auth ok: user=alice client=$client\$" 5 || fail "no 'auth ok' with $client"
server_log_has "session start: .* client=$client device=" 5 ||
	fail "no 'session start' with $client"
server_log_has "worker [0-9]+ \(alice@$client\): .*DTLS established" 5 ||
	fail "no worker label alice@$client"
grep -E "$CLI6_IP1:[0-9]" "$SERVER_LOG" && fail "an IPv6 address with a port and no brackets"
log "server log: $(grep -E 'session start: ' "$SERVER_LOG" | tail -n 1)"

ctl --json show users >"$WORK/users.json" || fail "sluicectl show users failed"
jq -e --arg ip "$CLI6_IP1" '.[0]["Remote IP"] == $ip and .[0]["Remote Port"] > 0' \
	"$WORK/users.json" >/dev/null || fail "show users: $(cat "$WORK/users.json")"
jq -e --arg ip "$CLI6_IP1" 'select(.event == "session-start") |
	select(.client_ip == $ip and .client_port > 0)' "$AUDIT" >/dev/null ||
	fail "no session-start audit record with client_ip $CLI6_IP1: $(cat "$AUDIT")"
log "sluicectl and the audit log show $CLI6_IP1"

start_client v4 "$NS_C2" alice alice-pw
expect_refused v4 "an IPv4 client of an IPv6-only listener"
stop_client c1
pass
