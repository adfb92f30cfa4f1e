#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: long sessions renew their keys (rekey-time, rekey-method).
#  1. TLS 1.3, rekey-method = ssl, rekey-time = 2: the worker updates the TLS keys every
#     2 s (a TLS key update that asks the client to update its own too) while pings flow
#     through the tunnel over TLS; none is lost, the client never reconnects, keeps its
#     address, and is not told to rekey itself.
#  2. The same with DTLS up: its DTLS channel stays the one it established.
#  3. TLS 1.2 (tls-priorities without TLS 1.3): the client is told X-CSTP-Rekey-Method:
#     new-tunnel and renews its keys by reconnecting with its cookie; it keeps its address
#     and its traffic passes after.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
require_ctl

add_user bob bob-pw
setup_server "rekey-time = 2
rekey-method = ssl"
updates() { grep -c "TLS keys renewed" "$SERVER_LOG"; }

# 1. TLS 1.3 over TLS only.
start_client c1 "$NS_C1" bob bob-pw -v
ip1=$(wait_tunnel c1 15) || fail "no tunnel"
grep -q "(TLS1.3)" "${CLIENT_LOG[c1]}" || fail "the client did not use TLS 1.3"
before=$(updates)
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip1")" 45) || fail "pings lost across key updates: $out"
after=$(updates)
log "45 pings over TLS across $((after - before)) key updates: $(tail -n 2 <<<"$out" | head -n 1)"
[ $((after - before)) -ge 3 ] || fail "only $((after - before)) key updates in 9 s with rekey-time = 2"
grep -q "X-CSTP-Rekey-Method" "${CLIENT_LOG[c1]}" && fail "the client was told to rekey itself under TLS 1.3"
grep -q "CSTP rekey due\|Reconnect" "${CLIENT_LOG[c1]}" && fail "the client reconnected"
[ "$(client_addr c1)" = "$ip1" ] || fail "the address changed"
stop_client c1

# 2. With DTLS: the DTLS channel stays.
CLIENT_DTLS=yes start_client c2 "$NS_C2" bob bob-pw
ip2=$(wait_tunnel c2 15) || fail "no tunnel with DTLS"
wait_dtls c2 >/dev/null || fail "no DTLS"
before=$(updates)
out=$(ping_through "$NS_C2" "$(server_tun_ip "$ip2")" 25) || fail "pings lost with DTLS: $out"
after=$(updates)
[ $((after - before)) -ge 2 ] || fail "only $((after - before)) key updates with DTLS up"
[ "$(dtls_count c2)" = 1 ] || fail "DTLS was set up again ($(dtls_count c2) times)"
log "with DTLS: $((after - before)) key updates, one DTLS session throughout"
stop_client c2

# 3. TLS 1.2: the client reconnects with its cookie.
stop_server
write_config "rekey-time = 3
rekey-method = ssl
tls-priorities = \"NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.3\""
start_server
before=$(updates)
start_client c3 "$NS_C1" bob bob-pw -v
ip3=$(wait_tunnel c3 15) || fail "no tunnel under TLS 1.2"
grep -q "(TLS1.2)" "${CLIENT_LOG[c3]}" || fail "the client did not use TLS 1.2"
grep -q "X-CSTP-Rekey-Method: new-tunnel" "${CLIENT_LOG[c3]}" || fail "no X-CSTP-Rekey-Method: new-tunnel"
for i in $(seq 1 100); do
	[ "$(client_log_count c3 'CSTP connected')" -ge 2 ] && break
	sleep 0.1
done
[ "$(client_log_count c3 'CSTP connected')" -ge 2 ] || fail "the client did not reconnect to rekey"
grep -q "CSTP rekey due" "${CLIENT_LOG[c3]}" || fail "the reconnect was not the rekey"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip3")" 3) || fail "no traffic after the rekey: $out"
[ "$(client_addr c3)" = "$ip3" ] || fail "the address changed on the rekey"
[ "$(updates)" = "$before" ] || fail "a key update under TLS 1.2"
log "TLS 1.2: the client reconnected with its cookie to rekey and kept $ip3"
pass "TLS 1.3 key updates keep the tunnel and DTLS; TLS 1.2 reconnects"
