#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# DTLS with "dtls-psk = false": the server picks a legacy (Cisco session-resumption)
# ciphersuite from the client's list, the client establishes it, and the tunnel's
# traffic travels as UDP datagrams; so does each legacy ciphersuite a client names.
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
stop_client c1

# Each legacy ciphersuite a client may ask for (openconnect --dtls-ciphers): Cisco's
# DTLS 0.9 with AES-CBC and DTLS 1.2 with AES-GCM, each established and carrying pings.
for c in AES128-SHA AES256-SHA OC-DTLS1_2-AES128-GCM OC-DTLS1_2-AES256-GCM; do
	start_client "$c" "$NS_C2" alice alice-pw --dtls-ciphers="$c"
	suite=$(wait_dtls "$c" 15) || fail "--dtls-ciphers=$c: no DTLS session"
	ip=$(wait_tunnel "$c" 15) || fail "--dtls-ciphers=$c: no tunnel"
	srv=$(server_tun_ip "$ip") || fail "--dtls-ciphers=$c: no server side"
	before=$(udp_counters)
	ping_through "$NS_C2" "$srv" 5 >/dev/null || fail "--dtls-ciphers=$c: pings failed"
	expect_udp "$before" "$(udp_counters)" 5 "server, $c"
	log "--dtls-ciphers=$c: $suite"
	stop_client "$c"
done
pass
