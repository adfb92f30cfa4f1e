#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: main runs out of file descriptors. sluiced starts with a soft limit of
# 48 descriptors and a hard limit of NOFILE; it must raise the soft one to NOFILE and warn
# that max-clients needs more than that. A bounded number of idle TCP connections from
# client 1 then use the descriptors up. main must say once that it ran out, stop
# accepting instead of retrying accept() in a busy loop (its CPU time stays low), leave
# the connections it cannot take waiting in the backlog rather than closing them, keep
# answering sluicectl and not exit. Once the idle connections are gone it must say that
# it accepts again, and a real client logs in. With that session up, the descriptors
# main holds for one client are counted and compared with MAIN_FDS_PER_CLIENT
# (src/main/listeners.h).
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq python3
it_init
require_ctl
NOFILE=${NOFILE:-96}
IDLE=${IDLE:-150}
HOLD_MAX=90 # seconds: the idle connections end by themselves after this
OUT_RE='out of file descriptors \([0-9]+ open, limit [0-9]+\): not accepting connections'

add_user bob bob-pw
SERVER_NOFILE=48:$NOFILE
setup_server "max-clients = 1000
max-preauth-clients = 1000
max-preauth-per-ip = 0
max-same-clients = 0
auth-timeout = 120"
server_log_has 'sluiced ready' 5 || fail "sluiced did not get ready"
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$SERVER_PID/limits")
[ "$soft" = "$NOFILE" ] || fail "sluiced's soft descriptor limit is $soft, not raised to $NOFILE"
grep -Eq 'max-clients = 1000 and max-preauth-clients = 1000 need about [0-9]+ file descriptors' "$SERVER_LOG" ||
	fail "no warning that max-clients needs more descriptors than the limit of $NOFILE"
log "start-up: $(grep -E 'file descriptor limit raised|max-clients = 1000 and' "$SERVER_LOG" |
	sed 's/.*sluiced[^:]*: //' | tr '\n' ' ')"

fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# utime + stime of a process, in clock ticks.
cpu_of() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
workers() { ctl --json show status | jq -r '."Worker processes"'; }

ctl --json show status >/dev/null || fail "sluicectl show status failed before the test"

# The idle connections: opened from client 1 and held without a byte sent until
# $WORK/release appears (or HOLD_MAX passes). Every half second the script writes how
# many are open and how many the server has closed (EOF or reset).
ip netns exec "$NS_C1" timeout $((HOLD_MAX + 10)) python3 - "$SRV_IP1" "$PORT" "$IDLE" \
	"$WORK/release" "$WORK/idle.status" "$HOLD_MAX" <<'EOF' &
import os, socket, sys, time
host, port, n, release, status, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4], sys.argv[5], float(sys.argv[6])
socks = []
for _ in range(n):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((host, port))
    except OSError:
        break
    s.setblocking(False)
    socks.append(s)
closed = set()
end = time.monotonic() + hold
while time.monotonic() < end and not os.path.exists(release):
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                closed.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
    with open(status + ".tmp", "w") as f:
        f.write("%d %d\n" % (len(socks), len(closed)))
    os.rename(status + ".tmp", status)
    time.sleep(0.5)
for s in socks:
    s.close()
EOF
idle_pid=$!
OWN_PIDS+=("$idle_pid")
server_log_has "$OUT_RE" 30 || fail "sluiced never logged that it ran out of file descriptors"
log "server: $(grep -E "$OUT_RE" "$SERVER_LOG" | head -n 1 | sed 's/.*sluiced[^:]*: //')"
wait_output 10 cat "$WORK/idle.status" || fail "the idle connections did not start"
sleep 1
read -r opened _ <"$WORK/idle.status"
[ "$opened" = "$IDLE" ] || fail "only $opened of $IDLE idle connections were made"

# No busy loop: over a few seconds out of descriptors, main uses little CPU.
tck=$(getconf CLK_TCK)
c0=$(cpu_of "$SERVER_PID")
t0=$(date +%s%N)
sleep 4
c1=$(cpu_of "$SERVER_PID")
t1=$(date +%s%N)
pct=$(((c1 - c0) * 100 * 1000000000 / tck / (t1 - t0)))
log "main used $((c1 - c0)) ticks of CPU in $(((t1 - t0) / 1000000)) ms ($pct%) out of descriptors"
[ "$pct" -lt 50 ] || fail "main used $pct% CPU while out of descriptors: a busy loop"
kill -0 "$SERVER_PID" 2>/dev/null || fail "sluiced exited while out of descriptors"
st=$(ctl --json show status) || fail "sluicectl show status fails while out of descriptors"
nw=$(jq -r '."Worker processes"' <<<"$st")
sec=$(jq -r '."Sec-mod PID"' <<<"$st")
log "sluicectl show status answers while out of descriptors: $nw workers;" \
	"main holds $(fds_of "$SERVER_PID") descriptors, sec $(fds_of "$sec")"
read -r opened closed <"$WORK/idle.status"
log "idle connections: $opened open, $closed closed by the server"
[ "$closed" = 0 ] ||
	fail "the server closed $closed of the connections it could not take (not left in the backlog)"
count=$(grep -Ec "$OUT_RE" "$SERVER_LOG")
[ "$count" = 1 ] || fail "'out of file descriptors' logged $count times, not once"

# The idle connections go; main accepts again and a real client logs in.
: >"$WORK/release"
for _ in $(seq 1 100); do
	kill -0 "$idle_pid" 2>/dev/null || break
	sleep 0.1
done
stop_pid "$idle_pid"
server_log_has 'accepting connections again \([0-9]+ open, limit [0-9]+\)' 15 ||
	fail "sluiced did not log that it accepts connections again"
log "server: $(grep -E 'accepting connections again' "$SERVER_LOG" | head -n 1 |
	sed 's/.*sluiced[^:]*: //')"
CLIENT_DTLS=yes
start_client c1 "$NS_C1" bob bob-pw
ip1=$(wait_tunnel c1 30) || fail "no login after the idle connections were released"
wait_dtls c1 15 >/dev/null || fail "no DTLS for the session"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip1")" 3) || fail "no traffic through the tunnel: $out"
kill -0 "$SERVER_PID" 2>/dev/null || fail "sluiced exited"

# Descriptors main holds for one client with a tunnel (DTLS handed over): counted with
# the session up and again once it has ended (a journal socket, opened at the first
# audit record, stays), both times with no other worker.
wait_workers()
{
	for _ in $(seq 1 100); do
		[ "$(workers)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "$(workers) workers, not $1"
}
wait_workers 1
sleep 0.5
with=$(fds_of "$SERVER_PID")
stop_client c1
wait_workers 0
sleep 0.5
without=$(fds_of "$SERVER_PID")
want=$(sed -n 's/^#define MAIN_FDS_PER_CLIENT \([0-9]*\).*/\1/p' "$top_srcdir/src/main/listeners.h")
log "main holds $((with - without)) descriptors for one client with a tunnel ($with with it," \
	"$without without; MAIN_FDS_PER_CLIENT $want)"
[ "$((with - without))" = "$want" ] ||
	fail "main holds $((with - without)) descriptors per client, MAIN_FDS_PER_CLIENT is '$want'"
pass "out of descriptors: paused without spinning, logged once, recovered"
