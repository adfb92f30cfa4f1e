#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# DTLS with "dtls-psk = false": the server picks a legacy (Cisco session-resumption)
# ciphersuite from the client's list, the client establishes it, and the tunnel's
# traffic travels as UDP datagrams.
. "$(dirname "$0")/lib.sh"
it_init
CLIENT_DTLS=yes
setup_server "dtls-psk = false
dtls-legacy = true"

start_client c1 "$NS_C1" alice alice-pw
suite=$(wait_dtls c1 15) || fail "the client established no DTLS session"
log "DTLS ciphersuite: $suite"
case $suite in
"") fail "the client logged no ciphersuite" ;;
*"(PSK)"*) fail "ciphersuite '$suite' is a PSK one although dtls-psk = false" ;;
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
[ "$(dtls_count c1)" = 1 ] || fail "the client re-established DTLS $(dtls_count c1) times"
pass
