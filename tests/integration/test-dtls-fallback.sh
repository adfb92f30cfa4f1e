#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# With DTLS up, UDP between client and server stops: the client's DTLS dead-peer
# detection (dpd = 2) moves the traffic to the TLS channel, pings work again within a
# bounded time, and the client keeps its session and VPN address.
. "$(dirname "$0")/lib.sh"
it_init
require_cmd nft
CLIENT_DTLS=yes
setup_server "dpd = 2"

start_client c1 "$NS_C1" alice alice-pw
suite=$(wait_dtls c1 15) || fail "the client established no DTLS session"
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server-side tun device with peer $vpn_ip"
log "tunnel up over DTLS $suite: client $vpn_ip, server side $srv_ip"
server_dtls_logged

before=$(udp_counters)
out=$(ping_through "$NS_C1" "$srv_ip" 5) || fail "ping over DTLS failed: $out"
expect_udp "$before" "$(udp_counters)" 5 "server, during 5 pings before the cut"

udp_block "$NS_C1"
log "UDP between the client and port $PORT now lost both ways"
start=$(date +%s%N)
ok=
# Bounded: 30 one-second pings. openconnect declares DTLS dead after 2 x DPD without a
# DTLS packet and then sends over TLS; the server must answer there.
for _ in $(seq 1 30); do
	if ip netns exec "$NS_C1" ping -n -q -c 1 -W 1 "$srv_ip" >/dev/null 2>&1; then
		ok=1
		break
	fi
done
[ -n "$ok" ] || fail "no ping got through within 30 s after UDP was cut"
log "first ping through after $((($(date +%s%N) - start) / 1000000)) ms"

before=$(udp_counters)
out=$(ping_through "$NS_C1" "$srv_ip" 10) || fail "ping over TLS after the cut failed: $out"
log "ping over TLS: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
grep -q ' 0% packet loss' <<<"$out" || fail "packets lost after falling back to TLS: $out"
log "server UDP datagrams during those pings: $(udp_delta "$before" "$(udp_counters)")"

kill -0 "${CLIENT_PID[c1]}" 2>/dev/null || fail "the client exited"
now=$(client_addr c1)
[ "$now" = "$vpn_ip" ] || fail "the client's VPN address changed from $vpn_ip to '$now'"
[ "$(client_log_count c1 'CSTP connected')" = 1 ] || fail "the client reconnected over TLS"
grep -i 'dead peer' "${CLIENT_LOG[c1]}" | while read -r l; do log "client: $l"; done
pass
