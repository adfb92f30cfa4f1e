#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: with worker-template-max-forks = 3 the worker template that forked three
# workers is retired: a freshly exec'd template (another address-space layout) forks
# the fourth, and the old one answers its last request and exits. The workers it forked
# go on under sluiced: a ping still goes through the first client's tunnel, the fourth
# client gets one from the new template, and the rotation is logged and counted.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd curl
it_init
setup_server "worker-template-max-forks = 3
metrics-listen = $SRV_IP1:9199"

scrape()
{
	ip netns exec "$NS_C1" curl -fsS --max-time 5 "http://$SRV_IP1:9199/metrics" \
		>"$WORK/metrics.txt" || fail "cannot scrape the metrics"
}
rotations()
{
	awk -v n="sluice_worker_template_rotations_total{reason=\"$1\"}" \
		'$1 == n { print $2; found = 1 } END { if (!found) print "missing" }' "$WORK/metrics.txt"
}

tpl1=$(template_pid)
[ -n "$tpl1" ] && [ "$(wc -w <<<"$tpl1")" = 1 ] || fail "not one worker template: '$tpl1'"
base1=$(map_base "$tpl1" libgnutls)
[ -n "$base1" ] || fail "no libgnutls in the template's memory map"
scrape
[ "$(rotations forks)" = 0 ] || fail "rotations before any fork: $(rotations forks)"

# Fork 1: a client with a tunnel.
start_client a "$NS_C1" alice alice-pw
ipa=$(wait_tunnel a 20) || fail "no tunnel for the first client"
wa=$(session_worker alice) || fail "no session start line for the first client"
[ "$(map_base "$wa" libgnutls)" = "$base1" ] || fail "worker $wa has not the template's layout"
[ "$(template_pid)" = "$tpl1" ] || fail "the template changed after one fork"

# Forks 2 and 3: connections that send nothing; the third retires the template.
hold_tcp h2 "$NS_C2" 60
hold_tcp h3 "$NS_C2" 60
server_log_has "worker template $tpl1 retired \(3 forks, worker-template-max-forks 3\): template [0-9]+ takes over" 10 ||
	fail "no rotation logged after three forks"
tpl2=$(grep -E "worker template $tpl1 retired" "$SERVER_LOG" | sed -n 's/.*: template \([0-9]*\) takes over.*/\1/p')
log "$(grep -E "worker template $tpl1 retired" "$SERVER_LOG")"
server_log_has "worker template $tpl1 exited with code 0" 10 || fail "the retired template did not exit"
kill -0 "$tpl1" 2>/dev/null && fail "the retired template $tpl1 still runs"
[ "$(template_pid)" = "$tpl2" ] || fail "the server's template is '$(template_pid)', not $tpl2"
base2=$(map_base "$tpl2" libgnutls)
log "libgnutls at $base1 in template $tpl1, at $base2 in template $tpl2"
[ -n "$base2" ] && [ "$base2" != "$base1" ] || fail "the new template has the old layout"
expect_unprivileged "new worker template" "$tpl2"

# The retired template answered its last request: three workers run under sluiced.
for i in $(seq 1 50); do
	[ "$(worker_pids | wc -l)" = 3 ] && break
	sleep 0.1
done
[ "$(worker_pids | wc -l)" = 3 ] || fail "workers under sluiced: $(worker_pids | tr '\n' ' ')"
for w in $(worker_pids); do
	[ "$(map_base "$w" libgnutls)" = "$base1" ] || fail "worker $w was not forked by $tpl1"
done

# Sessions of the old template are unaffected.
srv=$(server_tun_ip "$ipa") || fail "no server address for $ipa"
ping_through "$NS_C1" "$srv" 3 >"$WORK/ping.out" || fail "no ping through the first client's tunnel"
log "first client after the rotation: $(grep -E 'packets transmitted' "$WORK/ping.out")"

# Fork 4 comes from the new template.
start_client b "$NS_C2" alice alice-pw
wait_tunnel b 20 >/dev/null || fail "no tunnel for the fourth client"
wb=$(session_worker alice) || fail "no session start line for the fourth client"
[ "$wb" != "$wa" ] || fail "no new session start line"
[ "$(awk '{ print $4 }' "/proc/$wb/stat")" = "$SERVER_PID" ] || fail "worker $wb is not sluiced's child"
[ "$(map_base "$wb" libgnutls)" = "$base2" ] || fail "worker $wb was not forked by template $tpl2"
grep -q "workers are exec'd" "$SERVER_LOG" && fail "sluiced fell back to exec'd workers"
ping_through "$NS_C1" "$srv" 3 >/dev/null || fail "the first client's tunnel broke"
scrape
[ "$(rotations forks)" = 1 ] || fail "forks rotations: $(rotations forks), expected 1"
[ "$(rotations crash)" = 0 ] || fail "crash rotations: $(rotations crash), expected 0"
pass
