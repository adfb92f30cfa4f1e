#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# dpd: a client that stops answering (stopped with SIGSTOP) is declared dead after
# three DPD intervals without a frame, and its session is accounted.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server "dpd = 2"

start_client a "$NS_C1" alice alice-pw
wait_tunnel a 20 >/dev/null || fail "tunnel did not come up"
kill -STOP "${CLIENT_PID[a]}"
server_log_has "session end: .* user=alice .*reason=DPD timeout" 15 ||
	fail "no session end with reason DPD timeout within 15 s"
kill -CONT "${CLIENT_PID[a]}"
log "silent client declared dead"
pass
