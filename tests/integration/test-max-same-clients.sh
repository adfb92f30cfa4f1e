#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# max-same-clients = 1: a second concurrent session of the same user is refused while
# the first is connected, and allowed once the first has disconnected.
. "$(dirname "$0")/lib.sh"
it_init
setup_server "max-same-clients = 1"

start_client first "$NS_C1" alice alice-pw
ip1=$(wait_tunnel first 15) || fail "first session refused"
log "first session: $ip1"

start_client second "$NS_C2" alice alice-pw
wait_client_exit second 15
rc=$?
[ $rc = 124 ] && fail "second concurrent session still runs after 15 s"
[ $rc = 0 ] && fail "second concurrent session exited 0"
[ -z "$(client_addr second)" ] || fail "second concurrent session got a tunnel"
kill -0 "${CLIENT_PID[first]}" 2>/dev/null || fail "first session ended"
[ -n "$(client_addr first)" ] || fail "first session lost its tunnel"
log "second concurrent session refused (client exit $rc), first still up"

stop_client first INT
sleep 0.5
start_client third "$NS_C2" alice alice-pw
ip3=$(wait_tunnel third 15) || fail "session refused after the first disconnected"
log "session after the first disconnected: $ip3"
pass
