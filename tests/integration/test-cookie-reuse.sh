#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: a cookie whose tunnel is still up comes back from another address (the
# client moved before the server noticed). main finds the older tunnel of that session
# by its sid, ends it ("session re-used"), and gives the new connection the same address
# once the old device is gone; the new tunnel gets DTLS with a new DTLS id, and exactly
# one session of the user is left.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
CLIENT_DTLS=yes
setup_server
require_ctl

cookie=$(get_cookie "$NS_C1" alice alice-pw)
[ -n "$cookie" ] || fail "openconnect --authenticate returned no cookie"
start_cookie_client r1 "$NS_C1" "$cookie"
ip1=$(wait_tunnel r1 15) || fail "no tunnel with the cookie"
wait_dtls r1 15 >/dev/null || fail "no DTLS for the first tunnel"
worker1=$(session_worker alice) || fail "no session start line for the first tunnel"
log "first tunnel: $ip1 (worker $worker1), DTLS up"

# Frozen, the first client keeps its TCP connection open and cannot come back itself:
# to the server its tunnel is live.
kill -STOP "${CLIENT_PID[r1]}"
start_cookie_client r2 "$NS_C2" "$cookie"
ip2=$(wait_tunnel r2 15) || fail "the cookie of a live tunnel got no new tunnel"
server_log_has "session [0-9a-f]+ re-used by worker" 5 ||
	fail "main did not find the older tunnel of the session"
server_log_has "session end: .*user=alice .*reason=session re-used by a newer connection worker=$worker1" 5 ||
	fail "the older tunnel (worker $worker1) did not end as re-used"
[ "$ip1" = "$ip2" ] || fail "the session's address changed: $ip1 -> $ip2"
worker2=$(session_worker alice) || fail "no session start line for the second tunnel"
[ "$worker2" != "$worker1" ] || fail "no new session start"
log "second tunnel: $ip2 (worker $worker2)"

wait_dtls r2 15 >/dev/null || fail "no DTLS for the second tunnel"
out=$(ping_through "$NS_C2" "$(server_tun_ip "$ip2")" 3) || fail "no traffic after re-use: $out"
ctl --json show users | jq -e '[.[] | select(.Username == "alice")] | length == 1' >/dev/null ||
	fail "not exactly one session of alice: $(ctl --json show users)"
ctl --json show status | jq -e '."Active sessions" == 1' >/dev/null ||
	fail "status: not 1 active session: $(ctl --json show status)"

stop_client r1 KILL
stop_client r2
pass
