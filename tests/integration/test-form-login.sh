#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# The form-urlencoded variant of the login (openconnect --no-xmlpost: a GET, then a
# POST of name=value pairs) works, also with characters that need URL encoding.
. "$(dirname "$0")/lib.sh"
it_init
make_certs
add_user carol 'p&ss=w rd%+'
write_config
start_server

start_client c "$NS_C1" carol 'p&ss=w rd%+' --no-xmlpost
ip=$(wait_tunnel c 20) || fail "form-urlencoded login failed: $(tail -3 "${CLIENT_LOG[c]}")"
grep -q "XML POST enabled" "${CLIENT_LOG[c]}" && fail "the client used XML POST"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 3) || fail "no ping through the tunnel: $out"
log "form-urlencoded login as carol: $ip"
pass
