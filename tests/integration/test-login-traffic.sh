#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Password login, ping through the tunnel, iperf3 both directions over TLS (CSTP).
. "$(dirname "$0")/lib.sh"
it_init
require_cmd iperf3 jq
setup_server

start_client c1 "$NS_C1" alice alice-pw
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv_ip=$(server_tun_ip "$vpn_ip")
[ -n "$srv_ip" ] || fail "no server-side tun device with peer $vpn_ip"
log "tunnel up: client $vpn_ip, server side $srv_ip"

out=$(ping_through "$NS_C1" "$srv_ip" 10) || fail "ping through the tunnel failed: $out"
log "ping: $(tail -n 2 <<<"$out" | tr '\n' ' ')"

up=$(iperf_run "$NS_C1" "$srv_ip") || fail "iperf3 client->server failed"
down=$(iperf_run "$NS_C1" "$srv_ip" -R) || fail "iperf3 server->client failed"
log "iperf3 TCP over TLS: client->server $up Mbit/s, server->client $down Mbit/s"
awk -v u="$up" -v d="$down" 'BEGIN { exit !(u > 0 && d > 0) }' || fail "no throughput"
pass
