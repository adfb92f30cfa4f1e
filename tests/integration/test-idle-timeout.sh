#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# idle-timeout: a session without data packets is ended by the server, which tells
# the client (so it does not reconnect) and logs the reason; keepalive and DPD
# frames do not count as activity. A mobile client gets mobile-idle-timeout.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server "idle-timeout = 3
keepalive = 1"

start_client a "$NS_C1" alice alice-pw
ip=$(wait_tunnel a 20) || fail "tunnel did not come up"
# One ping, so that the ended session has bytes to count; then nothing.
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 1) || fail "no ping through the tunnel: $out"
wait_client_exit a 15
rc=$?
[ $rc = 124 ] && fail "the idle session was not ended within 15 s"
server_log_has "session end: .* user=alice .*reason=idle timeout" 5 ||
	fail "no session end with reason idle timeout"
grep -Eq "terminate|Session terminated by server" "${CLIENT_LOG[a]}" ||
	fail "the client was not told: $(tail -3 "${CLIENT_LOG[a]}")"
log "idle session ended by the server (client exit $rc)"
if [ "$SERVER" = sluiced ]; then
	require_ctl
	# occtl's figures of ended sessions
	ctl --json show status | jq -e '."Timed out (idle) sessions" == 1 and ."Timed out sessions" == 0
		and ."raw_max_session_time" >= 3 and ."raw_avg_auth_time" >= 0 and ."raw_tx" > 0' >/dev/null ||
		fail "show status does not count the idle session: $(ctl --json show status)"
fi

# mobile-idle-timeout: a mobile client (openconnect --os=android) gets its own, told in
# X-CSTP-Idle-Timeout; a desktop one keeps idle-timeout.
stop_server
write_config "idle-timeout = 3
mobile-idle-timeout = 40
keepalive = 1"
start_server
start_client m "$NS_C1" alice alice-pw -v --os=android
wait_tunnel m 20 >/dev/null || fail "no tunnel for the mobile client"
start_client d "$NS_C2" alice alice-pw -v
wait_tunnel d 20 >/dev/null || fail "no tunnel for the desktop client"
grep -q "X-CSTP-Idle-Timeout: 40" "${CLIENT_LOG[m]}" || fail "the mobile client was not told 40 s"
grep -q "X-CSTP-Idle-Timeout: 3" "${CLIENT_LOG[d]}" || fail "the desktop client was not told 3 s"
wait_client_exit d 15
[ $? = 124 ] && fail "the desktop client's idle session was not ended"
sleep 2
kill -0 "${CLIENT_PID[m]}" 2>/dev/null || fail "the mobile client's session ended before mobile-idle-timeout"
log "mobile client kept past idle-timeout by mobile-idle-timeout"
pass
