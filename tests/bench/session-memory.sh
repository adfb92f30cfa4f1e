#!/bin/bash
# PSS per session of sluiced holding many sessions of tests/bench/sluice-loadgen (TLS
# only, idle but for keepalives), with the worker template (the default) and without
# (worker-template = false): the PSS of the server's process tree with SESSIONS
# sessions minus its PSS with none, divided by SESSIONS; also its anonymous part. With
# SMAPS=1, tests/bench/worker-smaps.sh's breakdown of the workers' mappings follows
# each figure (on stderr). Prints one markdown table. Not part of make check.
#
# Environment: SESSIONS ("20 1000": the session counts), MODES ("template exec"), RUNS
# (3), RATE (logins a second, 25), SMAPS (0), DTLS (0; 1: the sessions carry DTLS
# too), top_builddir (the build whose sluiced runs). Root; namespaces and addresses as the integration tests (198.18.0.0/15 only).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TEST_NAME=session-memory
: "${SESSIONS:=20 1000}" "${MODES:=template exec}" "${RUNS:=3}" "${RATE:=25}" "${SMAPS:=0}"
: "${DTLS:=0}"
LOADGEN_OPTS=()
[ "$DTLS" = 1 ] && LOADGEN_OPTS=(--dtls)
SERVER=sluiced
. "$top_srcdir/tests/integration/lib.sh"
. "$here/bench-lib.sh"
log() { printf '%s [%s] %s\n' "$(date +%T)" "$TEST_NAME" "$*" >&2; }
LOADGEN=$top_builddir/tests/bench/sluice-loadgen
require_sluiced
require_cmd jq
require_cmd openssl
START_LOAD=$(cut -d ' ' -f 1 /proc/loadavg)
it_init
require_ctl
[ -x "$LOADGEN" ] || fail "no $LOADGEN; build first"
make_certs
# A SHA-512 crypt hash: a yescrypt one would make the ramp of a thousand logins take
# minutes of sec's time.
PASSWD_FILE=$WORK/passwd
echo "alice:*:$(openssl passwd -6 alice-pw)" >"$PASSWD_FILE" || fail "no SHA-512 crypt hash"

max=0
for n in $SESSIONS; do
	[[ $n =~ ^[1-9][0-9]{0,3}$ ]] || fail "SESSIONS: $n is not 1..9999"
	[ "$n" -gt "$max" ] && max=$n
done
# 50 source addresses, a pool with room for every session.
SOURCES=50
src_first=198.18.0.10
src_last=198.18.0.$((10 + SOURCES - 1))
for i in $(seq 10 $((10 + SOURCES - 1))); do
	check_addr "198.18.0.$i"
	ip -n "$NS_C1" addr add "198.18.0.$i/32" dev eth0 || fail "cannot add 198.18.0.$i"
done
POOL_PREFIX=18

declare -A MODE_KEYS=([template]="" [exec]="worker-template = false")
declare -A MODE_NAME=([template]="worker template (default)" [exec]="worker-template = false")
declare -A SAMPLES=() ANON=()

# measure MODE N: a fresh server, N loadgen sessions, the figures.
measure()
{
	local mode=$1 n=$2 base abase pss anon i up=0
	SERVER_LOG=$WORK/$mode-$n-$RUN.log
	write_config "max-clients = $((max + 64))
max-same-clients = 0
ipv4-network = $POOL_NET/$POOL_PREFIX
route = $POOL_NET/$POOL_PREFIX
${MODE_KEYS[$mode]}"
	bench_start_server || return 0
	sleep 1
	base=$(tree_pss_kib "$SERVER_PID")
	abase=$(tree_rollup_kib Pss_Anon: "$SERVER_PID")
	ip netns exec "$NS_C1" timeout 3700 "$LOADGEN" --server "$SRV_IP1" --pin "$PIN" \
		--source "$src_first-$src_last" --user alice --password alice-pw \
		--sessions "$n" --rate "$RATE" --duration 3600 --login-timeout 60 --progress 0 \
		"${LOADGEN_OPTS[@]}" --json >"$WORK/lg-$mode-$n-$RUN.out" 2>"$WORK/lg-$mode-$n-$RUN.err" &
	LOADGEN_PID=$!
	OWN_PIDS+=("$LOADGEN_PID")
	for i in $(seq 1 $((n * 4 / RATE + 120))); do
		up=$(ctl --json show users 2>/dev/null | jq length 2>/dev/null)
		up=${up:-0}
		[ "$up" -ge "$n" ] && break
		kill -0 "$LOADGEN_PID" 2>/dev/null || break
		sleep 0.5
	done
	if [ "$up" -ge "$n" ]; then
		# The last workers finish their set-up; the tunnels see a keepalive or two.
		sleep 5
		pss=$(tree_pss_kib "$SERVER_PID")
		anon=$(tree_rollup_kib Pss_Anon: "$SERVER_PID")
		log "$mode, $n sessions: PSS $base KiB (anon $abase) with 0, $pss KiB (anon $anon)" \
			"with $up ($(tree_count "$SERVER_PID") processes):" \
			"$(((pss - base) / n)) KiB per session (anon $(((anon - abase) / n)))"
		SAMPLES[$mode-$n]+="$(((pss - base) / n)) "
		ANON[$mode-$n]+="$(((anon - abase) / n)) "
		[ "$SMAPS" = 1 ] && bash "$here/worker-smaps.sh" "$SERVER_PID" >&2
	else
		log "$mode, $n sessions: only $up came up; no figure ($(tail -n 3 "$WORK/lg-$mode-$n-$RUN.err"))"
	fi
	kill -TERM "$LOADGEN_PID" 2>/dev/null
	for i in $(seq 1 600); do
		kill -0 "$LOADGEN_PID" 2>/dev/null || break
		sleep 0.1
	done
	stop_server
}

# stats NUMBERS...: "MEDIAN (MIN-MAX)"
stats()
{
	[ $# -gt 0 ] || {
		echo n/a
		return
	}
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%s (%s-%s)\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

for RUN in $(seq 1 "$RUNS"); do
	for n in $SESSIONS; do
		order=$MODES
		[ $((RUN % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$MODES" | tac | tr '\n' ' ')
		for mode in $order; do
			log "run $RUN: $mode, $n sessions"
			measure "$mode" "$n"
		done
	done
done

echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, Linux $(uname -r)," \
	"sluiced git $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo '?')," \
	"load average at start $START_LOAD; runs: $RUNS; DTLS: $DTLS"
echo
echo "| mode | sessions | PSS per session, KiB | anonymous PSS per session, KiB |"
echo "| --- | --- | --- | --- |"
for n in $SESSIONS; do
	for mode in $MODES; do
		# shellcheck disable=SC2086 # one sample per word
		echo "| ${MODE_NAME[$mode]} | $n | $(stats ${SAMPLES[$mode-$n]:-}) |" \
			"$(stats ${ANON[$mode-$n]:-}) |"
	done
done
echo
echo "Figures: median (min-max) over the runs."
pass
