#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the systemd notify protocol, spoken to a datagram socket this test listens
# on (no systemd needed): READY=1 once listening, a STATUS line when a session comes up,
# STOPPING=1 on SIGTERM, in that order.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd python3
it_init
make_certs
add_user alice alice-pw
write_config

# Each datagram becomes one line of notify.log; the listener stops by itself.
python3 - "$WORK/notify.sock" "$WORK/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 90
with open(sys.argv[2], "a") as out:
    while time.time() < end:
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        out.write(msg.decode(errors="replace").replace("\n", " ") + "\n")
        out.flush()
PY
OWN_PIDS+=($!)
for i in $(seq 1 50); do
	[ -S "$WORK/notify.sock" ] && break
	sleep 0.1
done
[ -S "$WORK/notify.sock" ] || fail "the notify listener did not start"

NOTIFY_SOCKET=$WORK/notify.sock start_server
notify_has()
{
	local i
	for i in $(seq 1 $((${2:-5} * 10))); do
		grep -Eq -- "$1" "$WORK/notify.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
notify_has '^READY=1 STATUS=0 sessions$' || fail "no READY=1 with STATUS after start-up"

start_client c1 "$NS_C1" alice alice-pw
wait_tunnel c1 15 >/dev/null || fail "no tunnel for alice"
notify_has '^STATUS=1 session$' || fail "no STATUS line for one session"

stop_server
notify_has '^STOPPING=1$' || fail "no STOPPING=1 on SIGTERM"
log "notify messages: $(tr '\n' '|' <"$WORK/notify.log")"
# The order systemd expects: ready first, stopping last.
grep -En 'READY=1|STATUS=1 session|STOPPING=1' "$WORK/notify.log" | cut -d: -f2- |
	sed 's/ STATUS=.*//' | tr '\n' '|' | grep -qx 'READY=1|STATUS=1 session|STOPPING=1|' ||
	fail "notify messages out of order: $(tr '\n' '|' <"$WORK/notify.log")"
pass
