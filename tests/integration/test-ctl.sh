#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: sluicectl over the control socket with a real client connected. Every
# command's --json passes jq; show users lists alice with her VPN address; show events
# prints her connect and disconnect; disconnect user ends the session (openconnect
# exits); exit codes 1 (no daemon) and 2 (usage); a non-root caller is refused; a
# user agent that is not UTF-8 is shown with '?' in valid JSON.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
require_cmd setpriv
it_init
require_ctl

# No daemon yet: exit 1 and a message that says so.
ctl show status >"$WORK/none.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "sluicectl without a daemon exited $rc, expected 1"
grep -q "not running" "$WORK/none.out" || fail "no 'not running' message: $(cat "$WORK/none.out")"
ctl show nonsense >/dev/null 2>&1
rc=$?
[ $rc = 2 ] || fail "usage error exited $rc, expected 2"
ctl show id abc >/dev/null 2>&1
rc=$?
[ $rc = 2 ] || fail "'show id abc' exited $rc, expected 2"

setup_server
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "control socket mode $(stat -c %a "$SOCK"), expected 600"
# Not through ctl(): the PID must be sluicectl itself (ip netns exec execs it).
ip netns exec "$NS_SRV" "$CTL" -s "$SOCK" show events >"$WORK/events.out" 2>&1 &
events_pid=$!
OWN_PIDS+=("$events_pid")
ip netns exec "$NS_SRV" "$CTL" -s "$SOCK" --json show events >"$WORK/events.json" 2>&1 &
events_json_pid=$!
OWN_PIDS+=("$events_json_pid")
sleep 0.5

# A user agent that is not UTF-8 (the client chooses it) must not break the JSON of
# any command.
start_client c1 "$NS_C1" alice alice-pw --useragent $'Open AnyConnect caf\xe9 \xff\xfe'
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice"
worker=$(session_worker alice) || fail "no session start line for alice"
log "alice has $ip1 (worker $worker)"

for cmd in "show status" "show users" "show user alice" "show id $worker"; do
	# shellcheck disable=SC2086 # the command is several words
	ctl --json $cmd >"$WORK/out.json" || fail "sluicectl --json $cmd failed"
	jq -e . "$WORK/out.json" >/dev/null || fail "sluicectl --json $cmd: invalid JSON: $(cat "$WORK/out.json")"
done
ctl --json show user alice | jq -e '.[0]."User-Agent" == "Open AnyConnect caf? ??"' >/dev/null ||
	fail "non-UTF-8 user agent: $(ctl --json show user alice)"
# occtl's fields: the TLS ciphersuite, DPD and KeepAlive (lib.sh: 90 and 30), averages.
ctl --json show user alice | jq -e '(.[0]."TLS ciphersuite" | test("^\\(TLS1\\.[23]\\)")) and
	.[0].DPD == 90 and .[0].KeepAlive == 30 and (.[0]."Average RX" | test("^[0-9.]+ [a-zA-Z]+/sec$"))' >/dev/null ||
	fail "show user lacks occtl's fields: $(ctl --json show user alice)"
ctl --json show users | jq -e --arg ip "$ip1" \
	'.[] | select(.Username == "alice" and .IPv4 == $ip)' >/dev/null ||
	fail "show users --json does not list alice with $ip1"
ctl --json show id "$worker" | jq -e '.[0].ID' >/dev/null || fail "show id has no ID"
# The byte counters are live (read from the TUN device), not the last periodic report.
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip1")" 3) || fail "no ping through the tunnel: $out"
ctl --json show user alice | jq -e '.[0].RX >= 252 and .[0].TX >= 252' >/dev/null ||
	fail "show user does not count the pings: $(ctl --json show user alice)"
ctl --json show status | jq -e '."Active sessions" == 1' >/dev/null || fail "status: not 1 session"
# --debug (occtl's): the exchange on stderr, the output unchanged.
ctl --debug --json show status 2>"$WORK/debug.err" | jq -e '."Active sessions" == 1' >/dev/null ||
	fail "show status --debug: its output changed"
grep -q '^sluicectl: debug: to .*: CtlEmpty' "$WORK/debug.err" &&
	grep -q '^sluicectl: debug: 2 replies, the last one done$' "$WORK/debug.err" ||
	fail "--debug: $(cat "$WORK/debug.err")"
ctl show users >"$WORK/users.txt" || fail "show users failed"
grep -E "^$worker +alice .* $ip1 " "$WORK/users.txt" >/dev/null ||
	fail "plain show users lacks alice: $(cat "$WORK/users.txt")"
ctl show user bob >/dev/null 2>&1
rc=$?
[ $rc = 1 ] || fail "show user of nobody connected exited $rc, expected 1"

# A caller that is not root is refused (the socket is 0600 root; the message says why).
setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL" -s "$SOCK" show status \
	>"$WORK/nobody.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "sluicectl as nobody exited $rc, expected 1"
grep -q "permission denied" "$WORK/nobody.out" || fail "no permission message: $(cat "$WORK/nobody.out")"

ctl --json disconnect user alice >"$WORK/disc.json" || fail "disconnect user failed"
jq -e '.ok' "$WORK/disc.json" >/dev/null || fail "disconnect --json: $(cat "$WORK/disc.json")"
wait_client_exit c1 10
[ $? = 124 ] && fail "openconnect still runs after disconnect user alice"
unset "CLIENT_PID[c1]"
server_log_has "control command from uid 0: disconnect user alice" 5 || fail "no MEV_CTL line"
server_log_has "session end: .*user=alice" 5 || fail "no session end for alice"
ctl disconnect user alice >/dev/null 2>&1
[ $? = 1 ] || fail "disconnecting a user without a session did not fail"

for i in $(seq 1 30); do
	grep -q "^disconnected user 'alice'" "$WORK/events.out" && break
	sleep 0.1
done
kill -TERM "$events_pid" "$events_json_pid"
wait "$events_pid" || fail "show events exited non-zero"
wait "$events_json_pid"
grep -q "^connected user 'alice' ($worker) from .* with IP $ip1" "$WORK/events.out" ||
	fail "no connect event: $(cat "$WORK/events.out")"
grep -q "^disconnected user 'alice' ($worker)" "$WORK/events.out" ||
	fail "no disconnect event: $(cat "$WORK/events.out")"
jq -e -s 'map(.event) == ["connect", "disconnect"]' "$WORK/events.json" >/dev/null ||
	fail "show events --json: $(cat "$WORK/events.json")"

ctl --json stop now | jq -e .ok >/dev/null || fail "stop now failed"
for i in $(seq 1 50); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "sluiced still runs after stop now"
[ -e "$SOCK" ] && fail "control socket left behind"
pass
