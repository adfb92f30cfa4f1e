#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: no-udp in a per-group file. bob, whose group has no-udp = true, is
# offered no DTLS (no X-DTLS headers) and his tunnel works over TLS; alice, outside
# that group, gets DTLS from the same server.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
CLIENT_DTLS=yes
mkdir -p "$WORK/groups"
echo "no-udp = true" >"$WORK/groups/tcponly"
make_certs
add_user alice alice-pw
add_user bob bob-pw tcponly
write_config "config-per-group = $WORK/groups"
start_server

start_client c1 "$NS_C1" alice alice-pw
wait_dtls c1 15 >/dev/null || fail "alice established no DTLS session"
start_client c2 "$NS_C2" bob bob-pw -v
ip2=$(wait_tunnel c2 15) || fail "no tunnel for bob"
grep -q "^X-DTLS-" "${CLIENT_LOG[c2]}" && fail "bob was offered DTLS: $(grep '^X-DTLS-' "${CLIENT_LOG[c2]}")"
grep -q "^X-CSTP-MTU" "${CLIENT_LOG[c2]}" || fail "the client log does not show the headers"
out=$(ping_through "$NS_C2" "$(server_tun_ip "$ip2")" 3) || fail "no ping through bob's tunnel: $out"
[ "$(dtls_count c2)" = 0 ] || fail "bob established DTLS"
pass "no-udp from a group file: TLS only for bob, DTLS for alice"
