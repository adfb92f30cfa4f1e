#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# DTLS with the default configuration (PSK-NEGOTIATE): the client establishes a PSK
# ciphersuite, and ping and iperf3 through the tunnel travel as UDP datagrams, shown by
# the server namespace's UDP counters growing at least by the number of pings; the
# client's MTU probes are echoed, so its tunnel MTU stays as negotiated.
. "$(dirname "$0")/lib.sh"
it_init
require_cmd iperf3 jq
CLIENT_DTLS=yes
setup_server

start_client c1 "$NS_C1" alice alice-pw
suite=$(wait_dtls c1 15) || fail "the client established no DTLS session"
log "DTLS ciphersuite: $suite"
case $suite in
*"(PSK)"*) ;;
*) fail "ciphersuite '$suite' is not a PSK one" ;;
esac
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server-side tun device with peer $vpn_ip"
log "tunnel up: client $vpn_ip, server side $srv_ip"
server_dtls_logged

pings=20
before=$(udp_counters)
out=$(ping_through "$NS_C1" "$srv_ip" $pings) || fail "ping through the tunnel failed: $out"
log "ping: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
expect_udp "$before" "$(udp_counters)" $pings "server, during $pings pings"

before=$(udp_counters)
up=$(iperf_run "$NS_C1" "$srv_ip") || fail "iperf3 client->server failed"
down=$(iperf_run "$NS_C1" "$srv_ip" -R) || fail "iperf3 server->client failed"
log "iperf3 TCP over DTLS: client->server $up Mbit/s, server->client $down Mbit/s"
awk -v u="$up" -v d="$down" 'BEGIN { exit !(u > 0 && d > 0) }' || fail "no throughput"
# Each direction moves megabytes in 3 s; a thousand datagrams each way is a low bar
# that only a tunnel carrying its data over TLS fails.
expect_udp "$before" "$(udp_counters)" 1000 "server, during iperf3"
[ "$(dtls_count c1)" = 1 ] || fail "the client re-established DTLS $(dtls_count c1) times"
# The client's MTU probes are answered byte for byte: an unanswered probe search would
# shrink its tunnel MTU towards 576 (protocol.md §5.6).
grep -q "No response to size\|declare MTU is" "${CLIENT_LOG[c1]}" && fail "the client's MTU probes went unanswered"
mtu=$(ip -n "$NS_C1" -o link show dev "${CLIENT_IF[c1]}" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
[ "${mtu:-0}" -ge 1300 ] || fail "the client's tunnel MTU is ${mtu:-unknown}"
log "client tunnel MTU $mtu"
pass
