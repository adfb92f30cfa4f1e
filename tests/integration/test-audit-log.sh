#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: audit-log holds one JSON record per event: an auth failure, a session
# start and end; after kill -9 of a worker in the middle of an iperf3 upload its
# session-end record carries the TUN device's byte counts, within a few percent of the
# client's own tun counters (client tx = server bytes_in); SIGHUP reopens the file.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq iperf3
it_init
make_certs
add_user alice alice-pw
AUDIT=$WORK/audit.json
write_config "audit-log = $AUDIT"
start_server

# records EVENT [JQ-FILTER]: the records of one event kind that pass the filter.
records() { jq -c --arg e "$1" "select(.event == \$e) | select(${2:-true})" "$AUDIT"; }

wait_record() { wait_output 5 records "$@"; }

# An auth failure.
start_client bad "$NS_C1" alice wrong-pw
wait_client_exit bad 20
wait_record auth '.result == "failure" and .user == "alice" and .method == "password"' ||
	fail "no auth failure record"
log "$(records auth '.result == "failure"' | head -n 1)"
records auth '.client_ip == "'$CLI_IP1'" and .client_port > 0 and (.reason | length) > 0 and
	(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"))' |
	grep -q . || fail "the auth failure record lacks the client, the reason or an RFC 3339 time"

# A session start and a clean end.
start_client c1 "$NS_C1" alice alice-pw
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice"
wait_record auth '.result == "success" and .user == "alice"' || fail "no auth success record"
wait_record session-start '.user == "alice" and .vpn_ip == "'$ip1'"' ||
	fail "no session-start record with alice's address $ip1"
start=$(records session-start '.vpn_ip == "'$ip1'"' | tail -n 1)
log "$start"
jq -e '(.session_id | length) > 0 and (.device | startswith("vpns")) and
	(.user_agent | test("AnyConnect|OpenConnect")) and .client_ip == "'$CLI_IP1'"' <<<"$start" >/dev/null ||
	fail "session-start record incomplete"
sid=$(jq -r .session_id <<<"$start")
stop_client c1
wait_record session-end '.session_id == "'$sid'" and .reason == "user disconnected" and
	.bytes_in >= 0 and .bytes_out >= 0 and .duration >= 0' || fail "no session-end record"
log "$(records session-end '.session_id == "'$sid'"')"

# SIGHUP after a rotation: new records go to a new file of the same name.
mv "$AUDIT" "$AUDIT.1"
kill -HUP "$SERVER_PID"
sleep 0.5
[ -e "$AUDIT" ] || fail "SIGHUP did not reopen the audit log"

# kill -9 of the worker in the middle of an upload.
start_client c2 "$NS_C1" alice alice-pw
ip2=$(wait_tunnel c2 15) || fail "no second tunnel for alice"
worker=$(session_worker alice) || fail "no worker for alice"
[ "$(awk '{ print $4 }' "/proc/$worker/stat" 2>/dev/null)" = "$SERVER_PID" ] ||
	fail "worker $worker is not a child of sluiced $SERVER_PID"
srv=$(server_tun_ip "$ip2") || fail "no server tunnel address"
ip netns exec "$NS_SRV" timeout 30 iperf3 -s -1 -B "$srv" -p 5201 >/dev/null 2>&1 &
OWN_PIDS+=($!)
sleep 0.5
ip netns exec "$NS_C1" timeout 20 iperf3 -c "$srv" -p 5201 -t 8 >/dev/null 2>&1 &
OWN_PIDS+=($!)
ifn=${CLIENT_IF[c2]}
counters() { ip -n "$NS_C1" -s -j link show dev "$ifn" | jq -r '.[0].stats64 | "\(.tx.bytes) \(.rx.bytes)"'; }
# Until 10 MB have gone through (bounded: iperf3 runs 8 s), however slow the machine.
for _ in $(seq 1 70); do
	read -r tx0 _ <<<"$(counters)"
	[ "${tx0:-0}" -gt 10000000 ] && break
	sleep 0.1
done
# The client is frozen around the kill, so that its tun device (and counters) cannot
# go away before they are read, however slow the machine.
kill -STOP "${CLIENT_PID[c2]}"
read -r tx0 rx0 <<<"$(counters)"
kill -KILL "$worker"
read -r tx1 rx1 <<<"$(counters)"
kill -CONT "${CLIENT_PID[c2]}"
log "killed worker $worker; client tun tx $tx0..$tx1, rx $rx0..$rx1"
wait_record session-end '.worker_pid == '"$worker" || fail "no session-end record after kill -9"
wait_record worker-exit '.worker_pid == '"$worker"' and (.cause | test("signal 9"))' ||
	fail "no worker-exit record with the cause"
end=$(records session-end '.worker_pid == '"$worker")
log "$end"
read -r bin bout <<<"$(jq -r '"\(.bytes_in) \(.bytes_out)"' <<<"$end")"
[ "$tx0" -gt 10000000 ] || fail "too little traffic before the kill ($tx0 bytes)"
# What the client sent is what the server received, and the other way round. The
# counters are read around the kill (a few percent either side), and what was in
# flight when the worker died (TCP and TLS buffers, up to a few MiB) reached only one
# end: the receiving side may be short by that much.
SLACK=$((4 * 1024 * 1024))
within() {
	awk -v v="$1" -v lo="$2" -v hi="$3" -v short="$4" -v s=$SLACK \
		'BEGIN { exit !(v >= lo * 0.97 - short * s && v <= hi * 1.03 + (1 - short) * s) }'
}
within "$bin" "$tx0" "$tx1" 1 || fail "bytes_in $bin is not the client's tx $tx0..$tx1"
within "$bout" "$rx0" "$rx1" 0 || fail "bytes_out $bout is not the client's rx $rx0..$rx1"
jq -e '.reason | length > 0' <<<"$end" >/dev/null || fail "session-end without a reason"
[ "$(wc -l <"$AUDIT.1")" -ge 4 ] || fail "the rotated file lost its records"
records session-start >/dev/null || fail "the new audit file is not JSON lines"
pass "audit records complete; after kill -9: in $bin (client tx $tx1), out $bout (client rx $rx1)"
