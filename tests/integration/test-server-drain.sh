#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: server-drain-ms. After SIGTERM new connections are refused at once, while
# the connected client keeps its tunnel (ping answered) for the drain time; then the
# session ends and sluiced exits, leaving no TUN device behind.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd python3
it_init
make_certs
add_user alice alice-pw
write_config "server-drain-ms = 4000"
start_server

start_client c1 "$NS_C1" alice alice-pw
ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv=$(server_tun_ip "$ip")

kill -TERM "$SERVER_PID"
t0=$(date +%s.%N)
server_log_has 'refusing new connections' 2 || fail "no drain after SIGTERM"
# A new TCP connection is refused (RST), not queued.
if ip netns exec "$NS_C2" timeout 3 bash -c "exec 3<>/dev/tcp/$SRV_IP2/$PORT" 2>/dev/null; then
	fail "a new connection was accepted while draining"
fi
ip netns exec "$NS_C1" ping -n -q -c 10 -i 0.2 -W 1 "$srv" >"$WORK/ping.out" 2>&1 ||
	fail "alice's tunnel did not carry traffic while draining: $(cat "$WORK/ping.out")"
log "while draining: $(grep 'packets transmitted' "$WORK/ping.out")"
kill -0 "$SERVER_PID" 2>/dev/null || fail "sluiced exited before the drain time"
for i in $(seq 1 100); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "sluiced still runs 10 s after the drain time"
t1=$(date +%s.%N)
elapsed=$(python3 -c "print(round($t1 - $t0, 2))")
log "sluiced exited after ${elapsed}s"
python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 3.9 else 1)" ||
	fail "sluiced exited after ${elapsed}s, before server-drain-ms"
wait_client_exit c1 10 ; [ $? != 124 ] || fail "the client still runs after the server ended"
SERVER_PID=
# Its sessions' TUN devices went with it (retired, then deleted together at the end).
left=$(ip -n "$NS_SRV" -o link show | grep ': vpns')
[ -z "$left" ] || fail "TUN devices left after sluiced ended: $left"
pass
