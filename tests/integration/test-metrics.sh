#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the Prometheus endpoint (metrics-listen). The page passes promtool, the
# session gauges go up and down with real clients (TLS and DTLS), the byte counters grow with traffic,
# and a wrong password is counted by reason.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd promtool curl
it_init
make_certs
add_user alice alice-pw
write_config "metrics-listen = $SRV_IP1:9199
stats-report-time = 1
ipv6-network = fd00:19::/64"
start_server

scrape()
{
	ip netns exec "$NS_C1" curl -fsS --max-time 5 "http://$SRV_IP1:9199/metrics" \
		>"$WORK/metrics.txt" || fail "cannot scrape the metrics"
	promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
		fail "promtool rejects the page: $(cat "$WORK/promtool.out")"
}
# value NAME{LABELS}: the sample's value in the last scrape
value()
{
	awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print "missing" }' \
		"$WORK/metrics.txt"
}
expect()
{
	[ "$(value "$1")" = "$2" ] || fail "$1 is $(value "$1"), expected $2"
}

scrape
expect sluice_sessions_active 0
expect sluice_sessions_total 0
ip netns exec "$NS_C1" curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	"http://$SRV_IP1:9199/other" | grep -qx 404 || fail "an unknown path is not 404"

start_client bad "$NS_C1" alice wrong-pw
wait_client_exit bad 15
start_client c1 "$NS_C1" alice alice-pw
ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv=$(server_tun_ip "$ip")
scrape
expect sluice_sessions_active 1
expect sluice_sessions_total 1
expect 'sluice_sessions_by_channel{channel="tls"}' 1
expect 'sluice_sessions_by_family{family="ipv4"}' 1
expect 'sluice_sessions_by_family{family="ipv6"}' 1
expect sluice_auth_successes_total 1
grep -Eq '^sluice_auth_failures_total\{reason="[^"]+"\} [1-9]' "$WORK/metrics.txt" ||
	fail "the wrong password is not counted"
expect 'sluice_session_setup_seconds_count' 1
in0=$(value sluice_tunnel_received_bytes_total)
out0=$(value sluice_tunnel_sent_bytes_total)

ip netns exec "$NS_C1" ping -n -q -c 20 -i 0.05 -s 1000 -W 2 "$srv" >/dev/null ||
	fail "no traffic through the tunnel"
sleep 2.5 # stats-report-time: the worker reports its counters every second
scrape
in1=$(value sluice_tunnel_received_bytes_total)
out1=$(value sluice_tunnel_sent_bytes_total)
log "bytes received $in0 -> $in1, sent $out0 -> $out1"
[ "$in1" -ge $((in0 + 20000)) ] || fail "received bytes did not grow with 20 KB of pings"
[ "$out1" -ge $((out0 + 20000)) ] || fail "sent bytes did not grow with 20 KB of replies"

# A second session over DTLS: the worker names its DTLS cipher in its reports.
CLIENT_DTLS=yes
start_client c2 "$NS_C2" alice alice-pw
wait_tunnel c2 15 >/dev/null || fail "no tunnel for the DTLS client"
wait_dtls c2 15 >/dev/null || fail "no DTLS for the second client"
sleep 2.5
scrape
expect sluice_sessions_active 2
expect 'sluice_sessions_by_channel{channel="dtls"}' 1
expect 'sluice_sessions_by_channel{channel="tls"}' 1

stop_client c1
stop_client c2
for i in $(seq 1 50); do
	scrape
	[ "$(value sluice_sessions_active)" = 0 ] && break
	sleep 0.1
done
expect sluice_sessions_active 0
expect sluice_sessions_total 2
[ "$(value sluice_tunnel_received_bytes_total)" -ge "$in1" ] ||
	fail "received bytes went down when the session ended"
grep -Eq '^sluice_worker_exits_total\{cause="clean"\} [1-9]' "$WORK/metrics.txt" ||
	fail "the worker's exit is not counted"
pass
