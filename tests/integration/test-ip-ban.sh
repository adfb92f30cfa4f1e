#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# IP bans: with max-ban-score = 20 and 10 points per wrong password, two wrong logins
# from one address ban it for ban-time (3 s): a third connection, even with the right
# password, is closed before TLS, while the other client namespace still logs in; once
# ban-time has passed the first address logs in again.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server "max-ban-score = 20
ban-points-wrong-password = 10
ban-points-connection = 1
ban-time = 3"

for i in 1 2; do
	start_client "bad$i" "$NS_C1" alice wrong-pw
	expect_refused "bad$i" "wrong password $i"
done
server_log_has "ban: client=$CLI_IP1 banned: score 2[0-9] reached max-ban-score 20" 5 ||
	fail "no ban logged for $CLI_IP1 after two wrong passwords"
log "$CLI_IP1 banned after two wrong passwords"

start_client banned "$NS_C1" alice alice-pw
expect_refused banned "right password from a banned address"
server_log_has "connection from $CLI_IP1 refused: banned" 5 || fail "no refusal logged"
# Closed before TLS: openconnect never reports a finished handshake.
grep -q "Connected to HTTPS" "${CLIENT_LOG[banned]}" &&
	fail "banned client completed a TLS handshake"
log "banned client refused before TLS"

start_client other "$NS_C2" alice alice-pw
wait_tunnel other 15 >/dev/null || fail "a client from $CLI_IP2 was refused"
log "client from $CLI_IP2 still logs in"
stop_client other INT

sleep 3.5
start_client again "$NS_C1" alice alice-pw
wait_tunnel again 15 >/dev/null || fail "$CLI_IP1 still refused after ban-time"
server_log_has "unban: client=$CLI_IP1: ban-time elapsed" 5 || fail "no unban logged"
log "$CLI_IP1 logs in again after ban-time"
pass
