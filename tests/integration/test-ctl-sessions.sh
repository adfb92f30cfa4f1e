#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluicectl show sessions / show session: sec's sessions relayed by main. A client
# killed with -9 leaves its session valid (the cookie could come back) and listed with
# In use false; `show session SID` shows it; a second login is listed in use, and its
# logout (SIGINT) removes it while the first stays. Every --json passes jq.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
require_ctl
sessions() { ctl --json show sessions valid >"$WORK/sessions.json" && jq -e . "$WORK/sessions.json" >/dev/null; }

setup_server
sessions || fail "show sessions valid --json failed: $(cat "$WORK/sessions.json")"
jq -e 'length == 0' "$WORK/sessions.json" >/dev/null || fail "sessions before any login"
ctl show sessions nonsense >/dev/null 2>&1
[ $? = 2 ] || fail "show sessions nonsense did not exit 2"
ctl show session xyz >/dev/null 2>&1
[ $? = 1 ] || fail "show session with a non-hex id did not exit 1"

start_client a "$NS_C1" alice alice-pw
wait_tunnel a 15 >/dev/null || fail "no tunnel for alice"
sessions || fail "show sessions valid --json failed"
jq -e '.[] | select(.Username == "alice" and ."In use" == true)' "$WORK/sessions.json" \
	>/dev/null || fail "alice's live session not listed in use: $(cat "$WORK/sessions.json")"
kill -9 "${CLIENT_PID[a]}"
wait_client_exit a 5
unset "CLIENT_PID[a]"
for i in $(seq 1 100); do
	sessions && jq -e '.[] | select(.Username == "alice" and ."In use" == false)' \
		"$WORK/sessions.json" >/dev/null && break
	sleep 0.1
done
sid=$(jq -r '.[] | select(.Username == "alice" and ."In use" == false) | ."Full session"' \
	"$WORK/sessions.json")
[ -n "$sid" ] || fail "no idle session of alice after kill -9: $(cat "$WORK/sessions.json")"
jq -e --arg ip "$CLI_IP1" '.[0]."Remote IP" == $ip and (.[0].Expires | length) > 1' \
	"$WORK/sessions.json" >/dev/null || fail "address or expiry missing: $(cat "$WORK/sessions.json")"
log "killed client's session $sid listed, not in use"
# occtl's name for the same list, and its -n (no pager).
ctl -n --json show cookies all >"$WORK/cookies.json" || fail "show cookies all failed"
cmp -s <(jq -S 'map({"Full session", Username, State})' "$WORK/cookies.json") <(jq -S 'map({"Full session", Username, State})' "$WORK/sessions.json") ||
	fail "show cookies all differs from show sessions valid: $(cat "$WORK/cookies.json")"

ctl --json show session "$sid" >"$WORK/one.json" || fail "show session $sid failed"
jq -e --arg sid "$sid" '.[0]."Full session" == $sid and .[0].Username == "alice"
	and .[0]."In use" == false and (.[0].Created | length) > 0' "$WORK/one.json" >/dev/null ||
	fail "show session --json: $(cat "$WORK/one.json")"
ctl show session "${sid:0:6}" >"$WORK/one.txt" || fail "show session by prefix failed"
grep -Eq "^ *Username: alice$" "$WORK/one.txt" || fail "plain show session: $(cat "$WORK/one.txt")"
ctl show sessions all >"$WORK/all.txt" || fail "show sessions all failed"
grep -Eq "^${sid:0:6} +alice " "$WORK/all.txt" || fail "plain show sessions: $(cat "$WORK/all.txt")"

start_client b "$NS_C2" alice alice-pw
wait_tunnel b 15 >/dev/null || fail "no tunnel for the second login"
sessions || fail "show sessions valid --json failed"
sid2=$(jq -r --arg sid "$sid" '.[] | select(."Full session" != $sid and ."In use") |
	."Full session"' "$WORK/sessions.json")
[ -n "$sid2" ] || fail "second session not listed in use: $(cat "$WORK/sessions.json")"
stop_client b INT
for i in $(seq 1 50); do
	sessions && ! jq -e --arg s "$sid2" '.[] | select(."Full session" == $s)' \
		"$WORK/sessions.json" >/dev/null && break
	sleep 0.1
done
jq -e --arg s "$sid2" '.[] | select(."Full session" == $s)' "$WORK/sessions.json" >/dev/null &&
	fail "session $sid2 still listed after logout"
jq -e --arg s "$sid" '.[] | select(."Full session" == $s)' "$WORK/sessions.json" >/dev/null ||
	fail "the killed client's session went with the other logout"
ctl show session "$sid2" >/dev/null 2>&1
[ $? = 1 ] || fail "show session of a logged-out session did not exit 1"
log "logged-out session $sid2 gone; $sid still valid"
pass
