#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: killing one session's worker with SIGKILL ends that session alone; the
# other client keeps its tunnel without loss, and main logs the session end and how
# the worker died.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
make_certs
add_user alice alice-pw
add_user bob bob-pw
write_config
start_server

start_client c1 "$NS_C1" alice alice-pw
start_client c2 "$NS_C2" bob bob-pw
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice"
ip2=$(wait_tunnel c2 15) || fail "no tunnel for bob"
worker=$(session_worker alice) || fail "no session start line for alice"
[ -n "$worker" ] || fail "no worker PID in alice's session start line"
# Only a child of the server this test started may be killed.
[ "$(awk '{ print $4 }' "/proc/$worker/stat" 2>/dev/null)" = "$SERVER_PID" ] ||
	fail "worker $worker is not a child of sluiced $SERVER_PID"
log "alice $ip1 (worker $worker), bob $ip2"

srv2=$(server_tun_ip "$ip2")
ip netns exec "$NS_C2" ping -n -q -c 30 -i 0.2 -W 2 -w 15 "$srv2" >"$WORK/ping.out" 2>&1 &
ping_pid=$!
OWN_PIDS+=("$ping_pid")
sleep 1
kill -KILL "$worker"
log "killed worker $worker with SIGKILL"
wait "$ping_pid"
ping_rc=$?
log "bob's ping meanwhile: $(grep -E 'packets transmitted' "$WORK/ping.out")"
[ $ping_rc = 0 ] || fail "bob's ping failed"
grep -q ' 0% packet loss' "$WORK/ping.out" || fail "bob lost packets while alice's worker died"

server_log_has "session end: .*user=alice .*worker=$worker" 5 ||
	fail "no session end line for alice"
server_log_has "worker $worker killed by signal 9" 5 || fail "no 'killed by signal 9' line"
log "$(grep -E "session end: .*user=alice" "$SERVER_LOG" | tail -n 1)"
[ -n "$(client_addr c2)" ] || fail "bob lost his tunnel"
pass
