#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# idle-timeout: a session without data packets is ended by the server, which tells
# the client (so it does not reconnect) and logs the reason; keepalive and DPD
# frames do not count as activity.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server "idle-timeout = 3
keepalive = 1"

start_client a "$NS_C1" alice alice-pw
wait_tunnel a 20 >/dev/null || fail "tunnel did not come up"
wait_client_exit a 15
rc=$?
[ $rc = 124 ] && fail "the idle session was not ended within 15 s"
server_log_has "session end: .* user=alice .*reason=idle timeout" 5 ||
	fail "no session end with reason idle timeout"
grep -Eq "terminate|Session terminated by server" "${CLIENT_LOG[a]}" ||
	fail "the client was not told: $(tail -3 "${CLIENT_LOG[a]}")"
log "idle session ended by the server (client exit $rc)"
pass
