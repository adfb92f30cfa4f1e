#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# The client's UDP moves to a new address (as after a NAT rebinding or a network change
# that leaves the TLS connection alone): its old UDP path goes silent, it declares DTLS
# dead and handshakes again from the new address. The server accepts the new DTLS
# session for the same VPN session, and traffic flows over UDP from the new address.
. "$(dirname "$0")/lib.sh"
it_init
require_cmd nft
CLIENT_DTLS=yes
NEW_IP=198.18.0.3
check_addr $NEW_IP
setup_server "dpd = 2"

start_client c1 "$NS_C1" alice alice-pw
suite=$(wait_dtls c1 15) || fail "the client established no DTLS session"
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server-side tun device with peer $vpn_ip"
log "tunnel up over DTLS $suite from $CLI_IP1: client $vpn_ip, server side $srv_ip"
out=$(ping_through "$NS_C1" "$srv_ip" 3) || fail "ping over DTLS failed: $out"

udp_peer_watch $NEW_IP
ip -n "$NS_C1" addr add $NEW_IP/24 dev eth0 || fail "cannot add $NEW_IP"
ip -n "$NS_C1" route replace $SRV_IP1/32 dev eth0 src $NEW_IP ||
	fail "cannot route $SRV_IP1 from $NEW_IP"
udp_block "$NS_C1" $CLI_IP1
log "new sockets now use $NEW_IP; the UDP of $CLI_IP1 is lost both ways"
start=$(date +%s%N)
suite=$(wait_dtls c1 30 2) || fail "no new DTLS session within 30 s after the move"
log "new DTLS session $suite after $((($(date +%s%N) - start) / 1000000)) ms"
expect_udp "0 0" "$(udp_peer_packets $NEW_IP)" 1 "$NEW_IP, its DTLS handshake"

pings=10
before=$(udp_peer_packets $NEW_IP)
out=$(ping_through "$NS_C1" "$srv_ip" $pings) || fail "ping after the move failed: $out"
log "ping after the move: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
expect_udp "$before" "$(udp_peer_packets $NEW_IP)" $pings "$NEW_IP, during $pings pings"

now=$(client_addr c1)
[ "$now" = "$vpn_ip" ] || fail "the client's VPN address changed from $vpn_ip to '$now'"
[ "$(client_log_count c1 'CSTP connected')" = 1 ] || fail "the client reconnected over TLS"
pass
