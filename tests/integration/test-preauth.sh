#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: connections that have not logged in cannot keep others out.
#  1. With max-clients = 1, 1000 idle TCP connections from client 1 (bounded, held for
#     at most a minute) take at most max-preauth-per-ip workers; the rest are closed at
#     once with a log line. A login from client 2 meanwhile gets a tunnel, and its
#     password step completes in under a second (not timed in a sanitizer build).
#  2. The idle connections end after tls-handshake-timeout (2 s), not auth-timeout (60).
#  3. max-clients counts sessions: with client 2's tunnel up, client 1's login is
#     refused as "the server is full".
#  4. With max-preauth-per-ip off and max-preauth-clients = 20 (a reload), 40 clients
#     that finish TLS and then say nothing fill the budget; once they are older than
#     tls-handshake-timeout a new login ends the oldest and goes through.
#  5. rate-limit-ms = 400 (a reload): six simultaneous TLS handshakes are accepted one
#     per 400 ms, so the last one completes about 2 s after the first; without it the
#     same six complete well within that.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq python3
it_init
require_ctl

CONF_BASE="max-same-clients = 0
auth-timeout = 60
tls-handshake-timeout = 2"
add_user bob bob-pw
setup_server "$CONF_BASE
max-clients = 1
max-preauth-per-ip = 8
max-preauth-clients = 64"
server_log_has 'sluiced ready' 5 || fail "sluiced did not get ready"
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
workers() { ctl --json show status | jq -r '."Worker processes"'; }

# load.py MODE N: MODE idle = N TCP connections that send nothing; tls = N that finish
# a TLS handshake and then send nothing; race = N TLS handshakes at once, printing the
# seconds each took. idle and tls write "open closed" to $WORK/load.status every 0.2 s
# and hold until $WORK/release exists (at most 60 s).
cat >"$WORK/load.py" <<'PY'
import os, socket, ssl, sys, threading, time
mode, n, host, port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def tls(timeout):
    s = socket.create_connection((host, port), timeout=timeout)
    return ctx.wrap_socket(s)
if mode == "race":
    t0 = time.monotonic()
    took = [None] * n
    def one(i):
        try:
            tls(10).close()
            took[i] = time.monotonic() - t0
        except OSError:
            took[i] = -1
    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th: t.start()
    for t in th: t.join()
    print(" ".join("%.2f" % x for x in sorted(took)))
    sys.exit(0)
socks = []
for _ in range(n):
    try:
        s = tls(5) if mode == "tls" else socket.create_connection((host, port), timeout=5)
    except OSError:
        continue
    s.setblocking(False)
    socks.append(s)
closed = set()
end = time.monotonic() + 60
while time.monotonic() < end and not os.path.exists(work + "/release"):
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            if s.recv(1) == b"":
                closed.add(i)
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError:
            closed.add(i)
    with open(work + "/load.status.tmp", "w") as f:
        f.write("%d %d\n" % (len(socks), len(closed)))
    os.rename(work + "/load.status.tmp", work + "/load.status")
    time.sleep(0.2)
PY
load() # MODE N: in the background from client 1
{
	rm -f "$WORK/release" "$WORK/load.status"
	ip netns exec "$NS_C1" timeout 90 python3 "$WORK/load.py" "$1" "$2" "$SRV_IP1" "$PORT" "$WORK" &
	LOAD_PID=$!
	OWN_PIDS+=("$LOAD_PID")
}
load_status() { cat "$WORK/load.status" 2>/dev/null; }
release() { touch "$WORK/release"; wait "$LOAD_PID" 2>/dev/null; }

# 1. 1000 idle connections from one address.
load idle 1000
for i in $(seq 1 100); do
	[ -s "$WORK/load.status" ] && break
	sleep 0.1
done
[ -s "$WORK/load.status" ] || fail "the idle connections did not start"
held=$(workers)
log "1000 idle connections from $CLI_IP1: $(load_status) (open closed) seen by the client; $held worker(s)"
[ "$held" -le 8 ] || fail "$held workers for one address, more than max-preauth-per-ip = 8"
preauth=$(ctl --json show status | jq -r '."Connections logging in"')
[ "$preauth" = "$held" ] || fail "show status: $preauth connections logging in, $held workers"
server_log_has "connection from $CLI_IP1 refused: max-preauth-per-ip \(8\)" 5 ||
	fail "no log line for the connections refused past max-preauth-per-ip"
t0=$(date +%s.%N)
cookie=$(get_cookie "$NS_C2" bob bob-pw) || fail "client 2 could not log in while client 1 holds idle connections"
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
log "client 2's login (password step) took $took s"
if ! sanitizer_build; then
	lt "$took" 1 || fail "client 2's login took $took s (at most 1 s expected)"
fi
start_client c2 "$NS_C2" bob bob-pw
wait_tunnel c2 >/dev/null || fail "client 2 got no tunnel while idle connections were held (max-clients = 1)"

# 2. The idle ones end at tls-handshake-timeout.
for i in $(seq 1 60); do
	read -r open closed < <(load_status)
	[ "$open" = "$closed" ] && break
	sleep 0.2
done
[ "$open" = "$closed" ] || fail "idle connections still open 12 s later: $(load_status) (tls-handshake-timeout = 2)"
log "all idle connections closed by the server after tls-handshake-timeout"
release

# 3. max-clients = 1: a second session is refused.
start_client c1 "$NS_C1" bob bob-pw
expect_refused c1 "a second session with max-clients = 1"
server_log_has 'max-clients \(1\) sessions are up or setting up; tunnel refused' 5 ||
	fail "no log line for the session refused by max-clients"
stop_client c2

# 4. The oldest connection logging in makes room.
write_config "$CONF_BASE
max-preauth-per-ip = 0
max-preauth-clients = 20
max-clients = 16"
ctl reload >/dev/null || fail "reload failed"
load tls 40
for i in $(seq 1 100); do
	[ -s "$WORK/load.status" ] && break
	sleep 0.1
done
log "40 clients that finished TLS and say nothing: $(load_status) (open closed); $(workers) worker(s)"
server_log_has 'connection refused: max-preauth-clients \(20\)' 5 ||
	fail "no log line for connections refused while all 20 were younger than tls-handshake-timeout"
sleep 3
get_cookie "$NS_C2" bob bob-pw >/dev/null || fail "a login failed while 20 idle TLS connections were older than tls-handshake-timeout"
server_log_has 'max-preauth-clients \(20\) reached; ending the oldest connection still logging in' 5 ||
	fail "no log line for the oldest connection ended to make room"
release

# 5. rate-limit-ms.
race() { ip netns exec "$NS_C2" timeout 60 python3 "$WORK/load.py" race 6 "$SRV_IP2" "$PORT" "$WORK"; }
free=$(race)
log "six simultaneous TLS handshakes without rate-limit-ms: done after $free s"
write_config "$CONF_BASE
max-preauth-per-ip = 0
max-clients = 16
rate-limit-ms = 400"
ctl reload >/dev/null || fail "reload failed"
limited=$(race)
log "six simultaneous TLS handshakes with rate-limit-ms = 400: done after $limited s"
last_free=${free##* }
last=${limited##* }
# Five gaps of 400 ms between the first accept and the sixth.
spread=$(awk -v a="${limited%% *}" -v b="$last" 'BEGIN { printf "%.2f", b - a }')
! lt "$spread" 1.9 || fail "with rate-limit-ms = 400 the six handshakes completed within $spread s (2.0 expected)"
lt "$last_free" 2.0 || fail "without rate-limit-ms the sixth handshake took $last_free s: this machine cannot tell the difference"
[[ " $limited " != *" -1"* ]] || fail "a handshake failed under rate-limit-ms: $limited"
pass "1000 idle connections held $held workers, login in $took s; eviction, max-clients and rate-limit-ms ($last s vs $last_free s)"
