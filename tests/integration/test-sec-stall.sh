#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: main survives while sec cannot keep up. sec is stopped (SIGSTOP, as a
# long password hash or a stuck disk would hold it) while a bounded burst of TCP
# connections arrives, each of which main announces to sec with a file descriptor;
# the channel fills, main must queue rather than exit. After SIGCONT a real client
# logs in, and alice's tunnel that was up before the stall keeps working throughout.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
require_cmd python3
require_cmd curl
it_init
require_ctl
# Under ASan and UBSan each connection costs main, the worker template and the worker
# several times the CPU: with 1500 the test ran past its time bounds on a loaded 2-core
# machine, while 800 still fill sec's channel (the test fails if they do not).
if [ -z "${BURST:-}" ] && sanitizer_build; then
	BURST=800
fi
BURST=${BURST:-1500}

add_user bob bob-pw
setup_server "max-clients = 0
max-preauth-clients = 0
max-preauth-per-ip = 0
auth-timeout = 60
metrics-listen = 127.0.0.1:9199"
# The metrics page's gauge of messages waiting for sec. Main answers between the
# workers it starts for the burst, which can fill both cores for a while (in a
# sanitizer build more than 5 s): what counts is that it answers, so it gets 30 s.
sec_queue() {
	ip netns exec "$NS_SRV" curl -sf --max-time 30 http://127.0.0.1:9199/metrics |
		awk '$1 == "sluice_secmod_queue_messages" { print $2 }'
}
start_client c1 "$NS_C1" alice alice-pw
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice"
sec=$(ctl --json show status | jq -r '."Sec-mod PID" // ."sec-mod PID" // .sec_pid // empty')
[ -n "$sec" ] || sec=$(pgrep -P "$SERVER_PID" -f "sluiced" | head -n 1)
[ -n "$sec" ] || fail "cannot find sec's PID: $(ctl --json show status)"
log "sec is $sec; stopping it"
kill -STOP "$sec"

# Open BURST connections from client 2 and keep them open (bounded: 60 s).
ip netns exec "$NS_C2" timeout 60 python3 - "$SRV_IP2" "$PORT" "$BURST" <<'EOF' &
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((host, port))
    except OSError:
        break
    socks.append(s)
print(len(socks), flush=True)
time.sleep(20)
EOF
burst_pid=$!
OWN_PIDS+=("$burst_pid")
# The burst must fill the channel (else this test proves nothing), and main must live.
if ! server_log_has "sec is not keeping up" 40; then
	kill -CONT "$sec" 2>/dev/null
	kill -0 "$SERVER_PID" 2>/dev/null ||
		fail "sluiced exited while sec was stopped: $(grep -E 'exiting' "$SERVER_LOG" | tail -n 1)"
	fail "$BURST connections did not fill sec's channel; raise BURST"
fi
sleep 2
kill -0 "$SERVER_PID" 2>/dev/null || {
	kill -CONT "$sec" 2>/dev/null
	fail "sluiced exited while sec was stopped: $(grep -E 'exiting' "$SERVER_LOG" | tail -n 1)"
}
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip1")" 3) || fail "alice's tunnel stalled with sec: $out"
q=$(sec_queue)
[ -n "$q" ] && [ "$q" -gt 0 ] || fail "sluice_secmod_queue_messages is '$q' while sec is stopped"
log "$q messages wait for sec"
log "main is alive with sec stopped; alice's tunnel works"

kill -CONT "$sec"
server_log_has "sec caught up with its queue" 30 || fail "main's queue for sec never drained"
[ "$(sec_queue)" = 0 ] || fail "sluice_secmod_queue_messages is not 0 after sec caught up"
stop_pid "$burst_pid"
start_client c2 "$NS_C2" bob bob-pw
wait_tunnel c2 30 >/dev/null || fail "no login after sec came back"
kill -0 "$SERVER_PID" 2>/dev/null || fail "sluiced exited"
pass "main queued for a stopped sec; logins work once it runs again"
