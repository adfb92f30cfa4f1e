#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: main trusts no worker. sluiced runs tests/integration/evil-worker (a
# compromised worker that speaks the IPC contract but lies) in place of sluice-worker,
# one scenario per connection, and the test checks what main makes of it:
# - a worker cannot choose an end reason that only main decides (session reused):
#   main ignores the claim, and sec learns that the session is no longer in use;
# - a worker that says its session ended but keeps its TUN device stays listed by
#   `sluicectl show users`, can be disconnected, and is killed when it ignores that;
# - a worker with a tunnel that ignores MW_TERMINATE is killed after the grace period;
# - text it sends (log lines, host name, user agent) reaches the log without control
#   characters, and its log lines are rate-limited;
# - it gets the address its user had before, not any address it asks for;
# - the kernel drops what it forwards from a source that is not its client's address,
#   and, with restrict-user-to-routes, to a destination outside the routes; for IPv4
#   and for IPv6.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
EVIL=$top_builddir/tests/integration/evil-worker
[ -x "$EVIL" ] || fail "no $EVIL; build first (make check builds it)"
it_init
require_ctl
make_certs
add_user alice alice-pw

# The wrapper sluiced execs for every connection: the scenario is what the test wrote
# last; what the worker saw goes to evil.out.
cat >"$WORK/evil.sh" <<EOF
#!/bin/sh
eval "set -- \$(cat $WORK/scenario)"
exec $EVIL "\$@" >>$WORK/evil.out 2>&1
EOF
chmod 755 "$WORK/evil.sh"
: >"$WORK/evil.out"
add_user rita rita-pw
mkdir -p "$WORK/users"
echo "restrict-user-to-routes = true" >"$WORK/users/rita"
add_user pia pia-pw
add_user uma uma-pw
echo 'restrict-user-to-ports = "udp(9999)"' >"$WORK/users/pia"
echo 'restrict-user-to-ports = "!(udp(9999))"' >"$WORK/users/uma"
write_config "worker-template = false
worker-path = $WORK/evil.sh
config-per-user = $WORK/users
ipv6-network = fd00:19::/64
route = $POOL_NET/$POOL_PREFIX
route = fd00:19::/64"
start_server

# run_scenario NAME ARGS...: one connection whose worker does ARGS; prints nothing.
conn=0
run_scenario()
{
	local name=$1
	shift
	printf '%q ' "$@" >"$WORK/scenario"
	echo "== $name" >>"$WORK/evil.out"
	conn=$((conn + 1))
	# An idle TCP connection: the evil worker never reads it.
	ip netns exec "$NS_C1" timeout 40 bash -c "exec 3<>/dev/tcp/$SRV_IP1/$PORT; sleep 40" \
		>/dev/null 2>&1 &
	OWN_PIDS+=("$!")
}

# evil_says PATTERN [SECONDS]: waits (bounded) for a line of the evil worker's output.
evil_says() { wait_output "${2:-10}" grep -E -- "$1" "$WORK/evil.out"; }

# sessions_free: sec holds sessions and none is in use.
sessions_free()
{
	local out
	out=$(ctl --json show sessions all) || return 1
	jq -e 'length > 0 and all(.[]; .in_use == 0)' <<<"$out" >/dev/null && echo y
}

# listed PID: sluicectl show users lists worker PID.
listed() { ctl --json show users | jq -e --argjson p "$1" '.[] | select(.ID == $p)'; }

gone_within()
{
	local pid=$1 limit=$2 i
	for i in $(seq 1 $((limit * 10))); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# 1. An end reason only main may decide.
run_scenario reused login alice alice-pw tunnel end 8 sleep 0.5
evil_says '^tunnel ok ' || fail "the evil worker got no tunnel: $(cat "$WORK/evil.out")"
server_log_has "session end: .*user=alice " 10 || fail "no session end for the first worker"
line=$(grep -E "session end: .*user=alice " "$SERVER_LOG" | tail -n 1)
log "$line"
case $line in
*"reason=session re-used"*) fail "main took the worker's word that its session was re-used" ;;
esac
server_log_has "claims the session ended for 'session re-used by a newer connection', which only main decides" 5 ||
	fail "no warning about the claimed end reason"
# sec was told the session is down (a re-used session is not): nothing is in use.
wait_output 5 sessions_free ||
	fail "sec still counts the session in use: $(ctl --json show sessions all)"
log "claimed 'session reused' ignored; sec holds the session as not in use"

# 2. Says its session ended, keeps the TUN device, ignores SIGTERM.
run_scenario hidden login alice alice-pw tunnel end 2 ignore-term sleep 30
evil_says '^end 2: sent' || fail "second scenario did not run: $(cat "$WORK/evil.out")"
pid=$(session_worker alice)
[ -n "$pid" ] || fail "no worker PID for the second scenario"
[ "$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)" = "$SERVER_PID" ] ||
	fail "worker $pid is not a child of sluiced $SERVER_PID"
wait_output 5 listed "$pid" ||
	fail "a worker holding a TUN device is not listed: $(ctl --json show users 2>&1)"
ctl disconnect id "$pid" >/dev/null || fail "disconnect id $pid failed"
gone_within "$pid" 9 || fail "worker $pid still runs 9 s after the disconnect"
server_log_has "worker $pid .*did not end in time after it was told to" 5 ||
	fail "no log line about killing the lingering worker"
log "a worker that hid its tunnel was listed, disconnected and killed"

# 3. Holds a tunnel and never reads MW_TERMINATE.
run_scenario deaf login alice alice-pw tunnel ignore-term sleep 30
wait_output 10 sh -c "grep -c '^tunnel ok ' $WORK/evil.out | grep -x 3" ||
	fail "third scenario got no tunnel: $(cat "$WORK/evil.out")"
pid=$(session_worker alice)
wait_output 5 listed "$pid" ||
	fail "worker $pid with a tunnel is not listed"
ctl disconnect id "$pid" >/dev/null || fail "disconnect id $pid failed"
gone_within "$pid" 9 || fail "worker $pid ignored MW_TERMINATE and still runs after 9 s"
server_log_has "session end: .*user=alice .*reason=server disconnected.*worker=$pid" 5 ||
	fail "no session end with reason server disconnected for $pid"
log "a worker that ignored MW_TERMINATE was killed after the grace period"
# 4. Control characters and a flood of log lines.
run_scenario text hostname 'host\nFAKE: session start: user=root' agent 'agent\e[31mred' \
	login alice alice-pw log 'line\nFAKE: auth ok: user=root' logs 300 tunnel sleep 1
evil_says '^sent 300 log lines' || fail "fourth scenario did not run: $(cat "$WORK/evil.out")"
server_log_has "more than 50 log lines in 10 s; dropping its lines for now" 15 ||
	fail "a worker's log flood was not limited"
lines=$(grep -c 'evil log line' "$SERVER_LOG")
[ "$lines" -le 50 ] || fail "$lines of the worker's 300 log lines were logged"
grep -q '^FAKE' "$SERVER_LOG" && fail "a worker forged a log line: $(grep '^FAKE' "$SERVER_LOG")"
grep -q $'\e' "$SERVER_LOG" && fail "an escape character reached the log"
server_log_has 'line\?FAKE: auth ok: user=root' 5 || fail "the worker's log line is missing"
log "log lines without control characters, $lines of 300 logged"

# 5. An address that was never its user's.
stranger=198.19.0.250
run_scenario address login alice alice-pw tunnel $stranger sleep 1
evil_says "^tunnel ok .* 198\.19\." || fail "fifth scenario got no tunnel: $(tail -n 3 "$WORK/evil.out")"
got=$(grep '^tunnel ok ' "$WORK/evil.out" | tail -n 1 | awk '{ print $4 }')
[ "$got" != "$stranger" ] || fail "a worker was given the address it asked for, $stranger"
server_log_has "asked for $stranger, which is not its user's previous address; ignored" 5 ||
	fail "no log line about the refused address"
log "asked for $stranger, got $got"

# 6. Spoofed and out-of-route packets, written straight into the TUN device: a UDP
# listener in the server namespace hears only what the kernel let through. The routes
# are the pool (lib.sh); rita's file sets restrict-user-to-routes.
# An IPv6 address of the server outside the pools and the routes.
ip -n "$NS_SRV" -6 addr add fd00:18:1::1/64 dev s2 nodad || fail "cannot add fd00:18:1::1"
ip netns exec "$NS_SRV" timeout 60 python3 -c '
import select, socket
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4.bind(("0.0.0.0", 9999))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s6.bind(("::", 9999))
while True:
    for s in select.select([s4, s6], [], [])[0]:
        data, peer = s.recvfrom(100)
        print(peer[0], data.decode(errors="replace"), flush=True)
' >"$WORK/heard" 2>&1 &
OWN_PIDS+=("$!")
wait_output 5 ip netns exec "$NS_SRV" ss -Hlun "sport = :9999" || fail "no UDP listener"
run_scenario spoof login rita rita-pw tunnel \
	spoof self local 9999 spoof 198.19.0.99 local 9999 spoof self "$SRV_IP2" 9999 \
	spoof self6 local6 9999 spoof fd00:19::99 local6 9999 spoof self6 fd00:18:1::1 9999 sleep 1
evil_says '^spoofed self6 -> \[fd00:18:1::1\]:9999' || fail "sixth scenario: $(tail -n 5 "$WORK/evil.out")"
read -r rita rita6 < <(grep '^tunnel ok ' "$WORK/evil.out" | tail -n 1 | awk '{ print $4, $5 }')
run_scenario control login alice alice-pw tunnel spoof self "$SRV_IP2" 9999 \
	spoof self6 fd00:18:1::1 9999 sleep 1
wait_output 10 sh -c "grep -c '^spoofed self6 -> \[fd00:18:1::1\]:9999' $WORK/evil.out | grep -x 2" ||
	fail "seventh scenario: $(tail -n 5 "$WORK/evil.out")"
read -r alice alice6 < <(grep '^tunnel ok ' "$WORK/evil.out" | tail -n 1 | awk '{ print $4, $5 }')
wait_output 5 grep -x "$alice evil-pkt" "$WORK/heard" ||
	fail "alice's packet to $SRV_IP2 did not arrive: $(cat "$WORK/heard")"
wait_output 5 grep -x "$alice6 evil-pkt" "$WORK/heard" ||
	fail "alice's IPv6 packet to fd00:18:1::1 did not arrive: $(cat "$WORK/heard")"
grep -qx "$rita evil-pkt" "$WORK/heard" || fail "rita's packet inside her routes did not arrive"
grep -qx "$rita6 evil-pkt" "$WORK/heard" || fail "rita's IPv6 packet inside her routes did not arrive"
grep -q '^198\.19\.0\.99 ' "$WORK/heard" && fail "a spoofed source passed the kernel"
grep -q '^fd00:19::99 ' "$WORK/heard" && fail "a spoofed IPv6 source passed the kernel"
[ "$(grep -c "^$rita " "$WORK/heard")" = 1 ] ||
	fail "rita's packet outside her routes passed the kernel: $(cat "$WORK/heard")"
[ "$(grep -c "^$rita6 " "$WORK/heard")" = 1 ] ||
	fail "rita's IPv6 packet outside her routes passed the kernel: $(cat "$WORK/heard")"

declare -A addr=()
# 7. restrict-user-to-ports in the kernel, past a worker that does not enforce it: pia
# may send only udp(9999), uma anything but it.
for u in pia uma; do
	run_scenario "ports-$u" login $u $u-pw tunnel spoof self local 9999 sleep 1
	wait_output 10 awk -v h="== ports-$u" '$0 == h { s = 1; next } s && /^spoofed self -> / { f = 1 }
		END { if (f) print "sent" }' "$WORK/evil.out" || fail "ports scenario of $u: $(tail -n 5 "$WORK/evil.out")"
	addr[$u]=$(awk -v h="== ports-$u" '$0 == h { s = 1; next } s && /^tunnel ok / { print $4 }' "$WORK/evil.out")
done
wait_output 5 grep -x "${addr[pia]} evil-pkt" "$WORK/heard" ||
	fail "pia's udp 9999 did not arrive: $(cat "$WORK/heard")"
sleep 1
grep -q "^${addr[uma]} " "$WORK/heard" && fail "uma's udp 9999 passed the kernel: $(cat "$WORK/heard")"
log "heard: $(tr '\n' ';' <"$WORK/heard")"
pass "main trusts no worker"
