#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Login rate of plain auth with the hashes sluice-passwd writes (yescrypt): RUNS runs of
# tests/bench/sluice-loadgen, each SESSIONS sessions started at RATE logins a second over
# TLS (from 20 addresses of one client namespace), held until DURATION seconds and
# logged out. Prints each run's JSON report line: established, failures, the ramp time,
# login latency (TCP connect to the CONNECT answer) p50/p90/p99/max.
#
# Environment: top_srcdir (this tree), top_builddir (the build whose sluiced,
# sluice-passwd and sluice-loadgen run; default top_srcdir), SESSIONS (100), RATE (25),
# DURATION (40), RUNS (3). Run as root; namespaces and addresses as the integration
# tests (198.18.0.0/15 only).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
SESSIONS=${SESSIONS:-100}
RATE=${RATE:-25}
DURATION=${DURATION:-40}
RUNS=${RUNS:-3}
LOADGEN=${LOADGEN:-$top_builddir/tests/bench/sluice-loadgen}
require_sluiced
require_cmd jq
it_init
[ -x "$LOADGEN" ] || fail "no $LOADGEN; build first"

make_certs
add_user alice alice-pw # sluice-passwd: yescrypt
grep -q '^alice:[^:]*:\$y\$' "$PASSWD_FILE" || fail "sluice-passwd did not write a yescrypt hash"
write_config "max-clients = 512
max-same-clients = 0"
start_server
src_first=198.18.0.10
src_last=198.18.0.29
for i in $(seq 10 29); do
	check_addr "198.18.0.$i"
	ip -n "$NS_C1" addr add "198.18.0.$i/32" dev eth0 || fail "cannot add 198.18.0.$i"
done
log "sluiced $(server_bin); $SESSIONS sessions at $RATE logins/s, $RUNS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
	ip netns exec "$NS_C1" timeout $((DURATION + 60)) "$LOADGEN" --server "$SRV_IP1" \
		--pin "$PIN" --source "$src_first-$src_last" --user alice --password alice-pw \
		--sessions "$SESSIONS" --rate "$RATE" --duration "$DURATION" --login-timeout 30 \
		--json >"$WORK/run$run.out" 2>"$WORK/run$run.err" || fail "run $run: loadgen failed"
	# Logins a second: sessions established over the time the last one took (the ramp).
	jq -c --argjson run "$run" '{run: $run, established, failed, ramp_s,
		logins_per_s: (if .ramp_s > 0 then (.established / .ramp_s * 10 | round) / 10
			       else 0 end), latency_ms, failures}' "$WORK/run$run.out"
	sleep 3
done
pass
