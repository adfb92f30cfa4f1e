#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# max-clients: with two sessions up, a third login gets its cookie but its tunnel is
# refused (sluiced logs that the server is full); once one session ends, the same user
# gets in.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
make_certs
for u in u1 u2 u3; do add_user $u $u-pw; done
write_config "max-clients = 2"
start_server

start_client a "$NS_C1" u1 u1-pw
wait_tunnel a 15 >/dev/null || fail "u1: no tunnel"
start_client b "$NS_C2" u2 u2-pw
wait_tunnel b 15 >/dev/null || fail "u2: no tunnel"
start_client c "$NS_C1" u3 u3-pw
wait_client_exit c 15
[ $? = 124 ] && fail "u3's client still runs with the server full"
[ -z "$(client_addr c)" ] || fail "u3 got a tunnel past max-clients = 2"
server_log_has "max-clients \(2\) sessions are up or setting up; tunnel refused" 5 ||
	fail "no log line for the refused tunnel"
log "u3 refused while u1 and u2 are up"

stop_client b
for i in $(seq 1 50); do
	ip -n "$NS_SRV" -o link show | grep -c ': vpns' | grep -qx 1 && break
	sleep 0.1
done
start_client c2 "$NS_C1" u3 u3-pw
wait_tunnel c2 15 >/dev/null || fail "u3: no tunnel once a session ended"
pass "max-clients refuses a third tunnel and lets it in once one ends"
