#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: main keeps serving while the audit file's disk stalls. The audit log is
# on a loop-mounted ext4 image frozen with fsfreeze(8), so the writer thread blocks in
# write(): a second user still logs in, sluicectl still answers, SIGHUP still reloads,
# and nothing reaches the file while frozen. After the thaw every record is there, in
# the order of the events. At shutdown (SIGTERM) with the disk frozen again, sluiced
# waits for the disk and the session-end records of the shutdown reach the file.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq fsfreeze mkfs.ext4 mount umount
it_init
require_ctl

MNT=$WORK/auditfs
AUDIT=$MNT/audit.json
FROZEN=0
truncate -s 16M "$WORK/audit.img" && mkfs.ext4 -q -F "$WORK/audit.img" >/dev/null 2>&1 ||
	skip "cannot make an ext4 image"
mkdir "$MNT"
mount -o loop "$WORK/audit.img" "$MNT" 2>/dev/null || skip "cannot loop-mount an ext4 image"

thaw()
{
	[ "$FROZEN" = 1 ] && fsfreeze -u "$MNT"
	FROZEN=0
}

freeze()
{
	fsfreeze -f "$MNT" || fail "cannot freeze $MNT"
	FROZEN=1
}

# A thread blocked on a frozen filesystem cannot die: thaw first, then stop the server
# (it holds the file), unmount, and leave the rest to lib.sh's cleanup.
stall_cleanup()
{
	local rc=$?
	thaw
	stop_server
	umount "$MNT" 2>/dev/null
	(exit "$rc")
	cleanup
}
trap stall_cleanup EXIT

make_certs
add_user alice alice-pw
add_user bob bob-pw
write_config "audit-log = $AUDIT"
start_server

records() { jq -c --arg e "$1" "select(.event == \$e) | select(${2:-true})" "$AUDIT"; }
wait_record()
{
	local i
	for i in $(seq 1 100); do
		[ -n "$(records "$@" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}
# records EVENT [JQ-FILTER]: the records of one event kind that pass the filter.
records() { jq -c --arg e "$1" "select(.event == \$e) | select(${2:-true})" "$AUDIT"; }
wait_record() { wait_output 10 records "$@"; }
lines() { wc -l <"$AUDIT"; }

start_client c1 "$NS_C1" alice alice-pw
wait_tunnel c1 15 >/dev/null || fail "no tunnel for alice"
wait_record session-start '.user == "alice"' || fail "no session-start record for alice"

freeze
n0=$(lines)
log "audit file frozen at $n0 records"
t0=$(date +%s)
start_client c2 "$NS_C2" bob bob-pw
wait_tunnel c2 15 >/dev/null || fail "bob cannot log in while the audit file is frozen"
ctl --json show status >"$WORK/status.json" || fail "sluicectl show status hangs or fails"
jq -e '."Active sessions" == 2' "$WORK/status.json" >/dev/null ||
	fail "show status while frozen: $(cat "$WORK/status.json")"
kill -HUP "$SERVER_PID"
ctl show status >/dev/null || fail "sluicectl fails after SIGHUP while frozen"
stop_client c1
for i in $(seq 1 50); do
	ctl --json show status | jq -e '."Active sessions" == 1' >/dev/null && break
	sleep 0.1
done
ctl --json show status | jq -e '."Active sessions" == 1' >/dev/null ||
	fail "alice's session did not end while frozen"
log "served a login, sluicectl, SIGHUP and a logout in $(($(date +%s) - t0)) s while frozen"
# Reading works on a frozen filesystem; writing does not: the writer really stalled.
[ "$(lines)" = "$n0" ] || fail "records were written while frozen: the test proves nothing"

thaw
wait_record session-end '.user == "alice"' || fail "no session-end record for alice after the thaw"
# Every line is one JSON record, in time order, none lost.
jq -e . "$AUDIT" >/dev/null || fail "the audit file is not JSON lines"
jq -s -e '[.[].time] as $t | $t == ($t | sort)' "$AUDIT" >/dev/null ||
	fail "records out of order: $(cat "$AUDIT")"
order=$(tail -n +"$((n0 + 1))" "$AUDIT" | jq -r 'select(.event == "session-start" or
	.event == "reload" or .event == "session-end" or
	(.event == "auth" and .result == "success")) | "\(.event):\(.user // "")"' | tr '\n' ' ')
log "records of the stall: $order"
[ "$order" = "auth:bob session-start:bob reload: session-end:alice " ] ||
	fail "records of the stall missing or out of order: $order"
records audit-lost | grep -q . && fail "records were lost: $(records audit-lost)"

# Shutdown with the disk frozen: main waits for the writer, then exits.
freeze
kill -TERM "$SERVER_PID"
sleep 1
kill -0 "$SERVER_PID" 2>/dev/null || fail "sluiced exited with records still queued"
thaw
for i in $(seq 1 100); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "sluiced does not exit after the thaw"
wait "$SERVER_PID"
SERVER_PID=
records session-end '.user == "bob"' | grep -q . ||
	fail "bob's session-end record of the shutdown was lost"
log "$(records session-end '.user == "bob"')"
pass "served while the audit disk was frozen; $(lines) records, in order, none lost"
