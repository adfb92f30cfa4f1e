#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the kernel's limits on sessions (src/main/kernel_limits.h). sluiced runs
# in a cgroup of its own whose pids.max leaves room for fewer workers than max-clients:
# - at start-up, a warning names pids.max, its value and TasksMax=; without the
#   cgroup's limit the same configuration logs the room the limits leave instead;
# - at the limit, a new client is refused (its worker cannot be made), the sessions up
#   keep working, and once one ends a new client gets in.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd nsenter
it_init
if [ -e /sys/fs/cgroup/pids/cgroup.procs ]; then
	CG_ROOT=/sys/fs/cgroup/pids
elif grep -qw pids /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
	CG_ROOT=/sys/fs/cgroup
else
	skip "no cgroup pids controller to limit sluiced with"
fi
CG=$CG_ROOT/sluice-test-$$
mkdir "$CG" || fail "cannot make $CG"
on_cleanup "rmdir $CG"
make_certs
for u in u1 u2 u3 u4 u5 u6; do add_user $u $u-pw; done
write_config "max-clients = 100"

# Without a cgroup limit: the information line.
start_server
server_log_has "kernel limits: room for about [0-9]+ sessions \(the least: " 5 ||
	fail "no kernel limits line: $(grep -i limit "$SERVER_LOG")"
grep -q "pids.max is" "$SERVER_LOG" && fail "a pids.max warning without a cgroup limit"
stop_server

# main, sec, sec's auth helper launcher, the worker template and, from the first login,
# one auth helper; the template forks twice for a worker (the middle process exits at
# once): a limit of 7 leaves room for one worker.
echo 7 >"$CG/pids.max" || fail "cannot set pids.max"
SERVER_LOG=$WORK/server2.log
echo $$ >"$CG/cgroup.procs" || fail "cannot enter $CG"
# nsenter, not ip netns exec: that one mounts a sysfs of its own, without the cgroup
# file system that systemd's services see.
(exec nsenter --net="/run/netns/$NS_SRV" "$(server_bin)" -f -c "$SERVER_CONF") >>"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
echo $$ >"$CG_ROOT/cgroup.procs" || fail "cannot leave $CG"
wait_output 10 ip netns exec "$NS_SRV" ss -Hltn "sport = :$PORT" || fail "sluiced does not listen"
server_log_has "the cgroup's pids.max is 7, which leaves room for about 0 sessions, fewer than max-clients = 100: .*TasksMax= in the service's unit" 5 ||
	fail "no pids.max warning: $(grep -i "limit\|pids" "$SERVER_LOG")"
log "sluiced warns: $(grep -o "the cgroup's pids.max is 7.*" "$SERVER_LOG" | head -1)"

# Fill the cgroup.
declare -a up=()
for u in u1 u2 u3 u4; do
	start_client $u "$NS_C1" $u $u-pw
	if ip=$(wait_tunnel $u 10); then
		up+=("$u")
		log "$u: $ip ($(cat "$CG/pids.current") processes in the cgroup)"
	else
		log "$u: no tunnel ($(cat "$CG/pids.current") processes in the cgroup)"
		stop_client $u
		refused=$u
		break
	fi
done
[ -n "${refused:-}" ] || fail "all of ${up[*]} got a tunnel under pids.max = 7"
[ "${#up[@]}" -ge 1 ] || fail "no session at all under pids.max = 7"
server_log_has "could not fork a worker" 5 ||
	fail "nothing in the log about the refused client: $(tail -n 20 "$SERVER_LOG")"
log "refused at the limit: $(grep "could not fork a worker" "$SERVER_LOG" | tail -1 | cut -d' ' -f3-)"
kill -0 "$SERVER_PID" || fail "sluiced died at the limit"
first=${up[0]}
ip=$(client_addr "$first")
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 2 -I "${CLIENT_IF[$first]}") ||
	fail "$first's session stopped working at the limit: $out"
# Room again: one session ends, and the refused user gets in.
stop_client "$first"
for i in $(seq 1 50); do [ "$(cat "$CG/pids.current")" -lt 6 ] && break; sleep 0.1; done
log "after $first left: $(for t in $(cat "$CG/tasks"); do printf '%s:%s ' "$t" "$(cat /proc/$t/comm)"; done)"
start_client again "$NS_C1" "$refused" "$refused-pw"
wait_tunnel again 15 >/dev/null || fail "$refused did not get in after $first left"
pass "the kernel's limits: warned at start-up, a client refused at the limit, room again after"
