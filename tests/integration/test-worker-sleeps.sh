#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: an idle session's worker sleeps until its next deadline. With the
# client's keepalive at 30 s, DPD at 90 s and stats-report-time at 60 s, the worker of
# a session without traffic wakes at most twice in 10 s (a keepalive may fall in the
# window), not once a second: at thousands of sessions a periodic timer in every
# worker was most of the machine's CPU. Its deadlines still hold (test-idle-timeout.sh,
# test-dpd-timeout.sh, test-rekey.sh, test-dtls-fallback.sh). The session has no IPv6,
# and neither has its TUN device: the kernel's router solicitations and MLD reports on
# it woke the worker too, and crossed the tunnel.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server "keepalive = 30
dpd = 90
stats-report-time = 60"

# wakeups PID: its voluntary and involuntary context switches so far.
wakeups() { awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n }' "/proc/$1/status"; }

start_client a "$NS_C1" alice alice-pw
wait_tunnel a 15 >/dev/null || fail "no tunnel"
pid=$(session_worker alice) || fail "no worker for alice"
sleep 2
before=$(wakeups "$pid")
sleep 10
after=$(wakeups "$pid")
kill -0 "$pid" || fail "the worker ended"
log "the idle worker $pid was scheduled $((after - before)) times in 10 s"
[ $((after - before)) -le 2 ] || fail "the idle worker woke $((after - before)) times in 10 s"
dev=$(grep -E "session start: .*user=alice " "$SERVER_LOG" | tail -n 1 | sed -n 's/.* device=\([^ ]*\).*/\1/p')
[ -n "$dev" ] || fail "no device for alice"
[ -z "$(ip -n "$NS_SRV" -6 addr show dev "$dev")" ] ||
	fail "$dev has IPv6 addresses: $(ip -n "$NS_SRV" -6 addr show dev "$dev")"
[ "$(ip netns exec "$NS_SRV" cat "/proc/sys/net/ipv6/conf/$dev/disable_ipv6")" = 1 ] ||
	fail "IPv6 is not disabled on $dev"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$(client_addr a)")" 2) || fail "the session does not carry traffic: $out"
pass "an idle session's worker sleeps until its next deadline"
