#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: a worker that dies on a signal before its client authenticated (here
# SIGSEGV sent by the test, as a crash a remote client triggered would end it) retires
# the worker template at once, so that nobody can probe one address-space layout without
# limit, and scores ban-points-worker-crash against the client's address: with
# max-ban-score = 40 and 20 points a crash, the second crash bans the address and a
# further connection is refused. A crash after authentication does neither. The log,
# the audit file, sluicectl and the metrics say so.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq curl
it_init
require_ctl
setup_server "max-ban-score = 40
ban-points-connection = 0
ban-points-wrong-password = 10
ban-points-worker-crash = 20
ban-time = 120
audit-log = $WORK/audit.log
occtl-socket-file = $SOCK
metrics-listen = $SRV_IP1:9199"

# crash_one NAME: opens a connection from client namespace 1 that sends nothing, finds
# its worker (the only one) and kills it with SIGSEGV; sets CRASHED to its PID.
crash_one()
{
	local w i
	for i in $(seq 1 50); do
		[ -z "$(worker_pids)" ] && break
		sleep 0.1
	done
	[ -z "$(worker_pids)" ] || fail "workers still run: $(worker_pids | tr '\n' ' ')"
	hold_tcp "$1" "$NS_C1" 60
	for i in $(seq 1 50); do
		w=$(worker_pids)
		[ -n "$w" ] && break
		sleep 0.1
	done
	[ -n "$w" ] && [ "$(wc -w <<<"$w")" = 1 ] || fail "not one worker for $1: '$w'"
	# Only a child of the server this test started may be killed.
	[ "$(awk '{ print $4 }' "/proc/$w/stat")" = "$SERVER_PID" ] ||
		fail "worker $w is not a child of sluiced $SERVER_PID"
	server_log_has "worker $w .*started" 5 || fail "sluiced did not name worker $w"
	kill -SEGV "$w"
	log "killed worker $w of connection $1 with SIGSEGV before any TLS"
	CRASHED=$w
}
# new_template OLD: waits for the rotation away from template OLD; sets TEMPLATE to the
# new one.
new_template()
{
	server_log_has "worker template $1 retired \(worker [0-9]+ .*killed by signal 11 .*before authentication\): template [0-9]+ takes over" 5 ||
		fail "template $1 was not retired after the crash"
	TEMPLATE=$(grep -E "worker template $1 retired" "$SERVER_LOG" |
		sed -n 's/.*: template \([0-9]*\) takes over.*/\1/p')
	[ -n "$TEMPLATE" ] && [ "$TEMPLATE" != "$1" ] || fail "no new template after $1"
	log "$(grep -E "worker template $1 retired" "$SERVER_LOG" | sed 's/.*template_rotate: //')"
}
points()
{
	ctl --json show ip ban points >"$WORK/points.json" || fail "show ip ban points failed"
	jq -r --arg ip "$1" '[.[] | select(.IP == $ip) | .Score] | first // 0' "$WORK/points.json"
}

tpl1=$(template_pid)
[ -n "$tpl1" ] || fail "no worker template"

# First crash: the template is replaced and 20 points are scored; not banned yet.
crash_one h1
w1=$CRASHED
server_log_has "worker $w1 killed by signal 11" 5 || fail "no exit line for worker $w1"
server_log_has "ban points: client=$CLI_IP1 \+20 for a worker crash before authentication \(worker $w1 killed by signal 11.*\); score 20" 5 ||
	fail "no ban points logged for the crash"
new_template "$tpl1"
tpl2=$TEMPLATE
server_log_has "worker template $tpl1 exited with code 0" 5 || fail "the retired template did not exit"
[ "$(template_pid)" = "$tpl2" ] || fail "the server's template is '$(template_pid)', not $tpl2"
[ "$(points "$CLI_IP1")" = 20 ] || fail "ban points of $CLI_IP1: $(points "$CLI_IP1"), expected 20"
ctl --json show ip bans >"$WORK/bans.json" || fail "show ip bans failed"
jq -e 'length == 0' "$WORK/bans.json" >/dev/null || fail "banned after one crash: $(cat "$WORK/bans.json")"
stop_pid "${HOLD_PID[h1]}"

# A client that logged in: its worker's crash is an authenticated user's.
start_client ok "$NS_C2" alice alice-pw
wait_tunnel ok 20 >/dev/null || fail "no tunnel for alice from $CLI_IP2"
wok=$(session_worker alice) || fail "no session start line for alice"
[ "$(awk '{ print $4 }' "/proc/$wok/stat")" = "$SERVER_PID" ] || fail "worker $wok is not sluiced's child"
kill -SEGV "$wok"
server_log_has "worker $wok killed by signal 11" 5 || fail "no exit line for worker $wok"
sleep 0.5
grep -q "ban points: client=$CLI_IP2" "$SERVER_LOG" && fail "a crash after authentication scored"
[ "$(points "$CLI_IP2")" = 0 ] || fail "ban points of $CLI_IP2: $(points "$CLI_IP2")"
[ "$(template_pid)" = "$tpl2" ] || fail "a crash after authentication replaced the template"
stop_client ok

# Second crash from the same address: banned, and the template is replaced again.
crash_one h2
w2=$CRASHED
server_log_has "ban: client=$CLI_IP1 banned: score 40 reached max-ban-score 40" 5 ||
	fail "no ban after the second crash"
new_template "$tpl2"
tpl3=$TEMPLATE
ctl --json show ip bans >"$WORK/bans.json" || fail "show ip bans failed"
jq -e --arg ip "$CLI_IP1" '.[] | select(.IP == $ip and .Score == 40)' "$WORK/bans.json" \
	>/dev/null || fail "show ip bans lacks $CLI_IP1: $(cat "$WORK/bans.json")"
log "$CLI_IP1 banned after crashes of workers $w1 and $w2; templates $tpl1 -> $tpl2 -> $tpl3"
start_client banned "$NS_C1" alice alice-pw
expect_refused banned "right password from the banned address"
server_log_has "connection from $CLI_IP1 refused: banned" 5 || fail "no refusal logged"

# The audit file has the crashes and the ban.
audited() { jq -es "$@" "$WORK/audit.log" >/dev/null; }
for w in "$w1" "$w2"; do
	audited --argjson pid "$w" 'any(.[]; .event == "worker-exit" and .worker_pid == $pid and
		.crash_before_auth == true)' ||
		fail "no worker-exit record with crash_before_auth for worker $w"
done
audited --argjson pid "$wok" 'any(.[]; .event == "worker-exit" and .worker_pid == $pid and
	.crash_before_auth == false)' ||
	fail "the authenticated worker's exit is recorded as a crash before authentication"
audited --arg ip "$CLI_IP1" 'any(.[]; .event == "ban" and .client_ip == $ip)' ||
	fail "no ban record in the audit file"

ip netns exec "$NS_C1" curl -fsS --max-time 5 "http://$SRV_IP1:9199/metrics" \
	>"$WORK/metrics.txt" || fail "cannot scrape the metrics"
grep -qx 'sluice_worker_template_rotations_total{reason="crash"} 2' "$WORK/metrics.txt" ||
	fail "crash rotations: $(grep rotations_total "$WORK/metrics.txt" | tr '\n' ' ')"
pass
