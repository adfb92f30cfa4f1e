#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# SIGHUP with a new certificate and key (in the same files): the next client sees the
# new pin, while the session made with the old certificate keeps running. A key that
# does not match the certificate is refused by sec and the current pair stays.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server
start_client a "$NS_C1" alice alice-pw
ip=$(wait_tunnel a 20) || fail "tunnel did not come up"
srv=$(server_tun_ip "$ip") || fail "no server side of the tunnel"
old_pin=$PIN

make_certs # a new CA, key and certificate over the same files; sets PIN
[ "$PIN" != "$old_pin" ] || fail "the new certificate has the old pin"
kill -HUP "$SERVER_PID"
server_log_has "new connections use the certificate of generation 1" 5 ||
	fail "the new certificate was not taken into use"
start_client b "$NS_C2" alice alice-pw
wait_tunnel b 15 >/dev/null || fail "client pinning the new certificate was refused"
stop_client b INT
new_pin=$PIN
PIN=$old_pin
start_client old "$NS_C2" alice alice-pw
expect_refused old "client pinning the old certificate"
PIN=$new_pin
out=$(ping_through "$NS_C1" "$srv" 3) || fail "the old session did not survive: $out"
log "new pin for new clients; old session still pings"

# A key that is not the certificate's: sec refuses it, the current pair stays.
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
	--outfile "$SERVER_KEY" >/dev/null 2>&1 || fail "certtool failed"
kill -HUP "$SERVER_PID"
server_log_has "configuration reload rejected: server-key .* does not match server-cert" 5 ||
	fail "a mismatched key was not refused"
start_client c "$NS_C2" alice alice-pw
wait_tunnel c 15 >/dev/null || fail "login failed after a refused key"
out=$(ping_through "$NS_C1" "$srv" 3) || fail "the old session did not survive: $out"
log "mismatched key refused; logins still work"
pass
