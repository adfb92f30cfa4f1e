#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: session-quota-bytes from a per-user file, counted by main from the TUN
# device, from the login across a cookie reconnect:
# - quinn (quota 200000 bytes) pings 100 KB through a first tunnel, which stays up;
#   killed, the client reconnects with the cookie and pings again: the second tunnel
#   alone stays below the quota, the session does not, and main ends it. The client is
#   told why and exits; the log, the audit record and `sluicectl show events` say "quota
#   exceeded"; the old cookie is refused afterwards, by sec, without a new tunnel.
# - bob (no quota) moves three times quinn's quota and stays connected.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
require_ctl
QUOTA=200000
# ping -s 972: 1000-byte IPv4 packets, one each way per ping: 2000 bytes at the TUN.
PING_BYTES=2000

mkdir -p "$WORK/users"
echo "session-quota-bytes = $QUOTA" >"$WORK/users/quinn"
make_certs
add_user quinn quinn-pw
add_user bob bob-pw
AUDIT=$WORK/audit.json
write_config "config-per-user = $WORK/users
audit-log = $AUDIT"
start_server

# records EVENT [JQ-FILTER]: the audit records of one event kind that pass the filter.
records() { jq -c --arg e "$1" "select(.event == \$e) | select(${2:-true})" "$AUDIT"; }
# pings NS DEST COUNT: COUNT pings of PING_BYTES, 50 a second, bounded; the summary.
pings()
{
	check_addr "$2"
	ip netns exec "$1" ping -n -q -c "$3" -i 0.02 -s 972 -W 1 "$2" 2>&1 |
		tail -n 2 | head -n 1
}

# The first tunnel: half the quota, and it stays up.
cookie=$(get_cookie "$NS_C1" quinn quinn-pw)
[ -n "$cookie" ] || fail "no cookie for quinn"
start_cookie_client q1 "$NS_C1" "$cookie"
ip_q=$(wait_tunnel q1 15) || fail "no tunnel for quinn"
srv_q=$(server_tun_ip "$ip_q") || fail "no server address for quinn's tunnel"
log "quinn, first tunnel: $(pings "$NS_C1" "$srv_q" $((QUOTA / PING_BYTES / 2)))"
sleep 2
kill -0 "${CLIENT_PID[q1]}" 2>/dev/null || fail "quinn's first tunnel ended below the quota"
grep -q "session end: .*user=quinn " "$SERVER_LOG" && fail "quinn's session ended below the quota"
stop_client q1 KILL
server_log_has "session end: .*user=quinn .*reason=connection closed" 5 ||
	fail "no end of quinn's first tunnel"
first=$(records session-end '.user == "quinn"' | tail -n 1)
used1=$(jq '.bytes_in + .bytes_out' <<<"$first")
log "quinn's first tunnel moved $used1 bytes"
[ "$used1" -ge $((QUOTA / 2)) ] && [ "$used1" -lt "$QUOTA" ] ||
	fail "quinn's first tunnel counted $used1 bytes, not about half of $QUOTA"

# The reconnect with the cookie goes on counting: less than the quota in this tunnel,
# more than the quota in the session.
ip netns exec "$NS_SRV" timeout 60 "$CTL" -s "$SOCK" --json show events >"$WORK/events.json" 2>&1 &
OWN_PIDS+=("$!")
start_cookie_client q2 "$NS_C1" "$cookie"
ip_q2=$(wait_tunnel q2 15) || fail "quinn's cookie does not reconnect"
[ "$ip_q2" = "$ip_q" ] || fail "quinn's reconnect got $ip_q2, not $ip_q"
second=$(((QUOTA - used1) / PING_BYTES + 25))
[ $((second * PING_BYTES)) -lt "$QUOTA" ] || fail "the test's second tunnel would reach the quota alone"
t0=$(date +%s)
log "quinn, second tunnel ($second pings): $(pings "$NS_C1" "$srv_q" "$second")"
wait_client_exit q2 10
rc=$?
[ $rc = 124 ] && fail "quinn's client still runs 10 s after the quota was used up"
unset "CLIENT_PID[q2]"
log "quinn's client exited ($rc) $(($(date +%s) - t0)) s after the pings began"
grep -F "quota exceeded" "${CLIENT_LOG[q2]}" | head -n 1 | grep -q . ||
	fail "quinn's client was not told the reason"
log "client: $(grep -F 'quota exceeded' "${CLIENT_LOG[q2]}" | head -n 1)"
server_log_has "session end: .*user=quinn .*reason=quota exceeded " 5 ||
	fail "no session end with reason 'quota exceeded' for quinn"
wait_output 5 records session-end '.user == "quinn" and .reason == "quota exceeded"' ||
	fail "no audit record of quinn's session ending with 'quota exceeded'"
last=$(records session-end '.user == "quinn" and .reason == "quota exceeded"')
used2=$(jq '.bytes_in + .bytes_out' <<<"$last")
log "audit: $last"
[ "$used2" -lt "$QUOTA" ] && [ $((used1 + used2)) -gt "$QUOTA" ] ||
	fail "second tunnel $used2 bytes, session $((used1 + used2)): not beyond the quota by the sum alone"
# One check a second: beyond the quota by at most what a second of 50 pings moves.
[ $((used1 + used2)) -le $((QUOTA + 60 * PING_BYTES)) ] ||
	fail "the session moved $((used1 + used2)) bytes, far beyond its quota of $QUOTA"
wait_output 5 jq -c 'select(.event == "disconnect" and .Username == "quinn" and
	.reason == "quota exceeded")' "$WORK/events.json" ||
	fail "sluicectl show events does not say 'quota exceeded': $(cat "$WORK/events.json")"

# The cookie is dead.
start_cookie_client q3 "$NS_C1" "$cookie"
expect_refused q3 "quinn's cookie after the quota"
[ "$(grep -c "session start: .*user=quinn " "$SERVER_LOG")" = 2 ] ||
	fail "quinn's cookie opened a tunnel after the quota"
log "quota: ended after $((used1 + used2)) bytes ($used1 + $used2) of $QUOTA; the cookie is refused"

# bob has no quota: three times quinn's quota, and still connected.
start_client b1 "$NS_C2" bob bob-pw
ip_b=$(wait_tunnel b1 15) || fail "no tunnel for bob"
srv_b=$(server_tun_ip "$ip_b") || fail "no server address for bob's tunnel"
log "bob: $(pings "$NS_C2" "$srv_b" $((3 * QUOTA / PING_BYTES)))"
sleep 2
kill -0 "${CLIENT_PID[b1]}" 2>/dev/null || fail "bob's session ended"
grep -q "session end: .*user=bob " "$SERVER_LOG" && fail "bob's session ended"
log "bob, without a quota, still connected"
stop_client b1
pass "session-quota-bytes"
