#!/bin/bash
# The memory cost of the worker template's rotation (design.md, "Scale"): PSS per session
# of sluiced with BENCH_SESSIONS connected clients, with the template never retired by
# count (worker-template-max-forks = 0), retired every BENCH_FORKS forks, and without a
# template (worker-template = false, every worker exec'd); all of PSS, and its anonymous
# part alone. Alternates the modes over BENCH_RUNS runs and prints one markdown table.
# The method is in tests/bench/README.md. Not part of make check.
#
# Environment: BENCH_RUNS (5), BENCH_SESSIONS (40), BENCH_FORKS (10). Progress goes to
# stderr, the table to stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TEST_NAME=template-rotation
: "${BENCH_RUNS:=5}" "${BENCH_SESSIONS:=40}" "${BENCH_FORKS:=10}"
for v in BENCH_RUNS BENCH_SESSIONS BENCH_FORKS; do
	[[ ${!v} =~ ^[1-9][0-9]{0,2}$ ]] || {
		echo "template-rotation: $v must be 1..999" >&2
		exit 2
	}
done
SERVER=sluiced
. "$top_srcdir/tests/integration/lib.sh"
. "$here/bench-lib.sh"
log() { printf '%s [%s] %s\n' "$(date +%T)" "$TEST_NAME" "$*" >&2; }
require_cmd ss
START_LOAD=$(cut -d ' ' -f 1 /proc/loadavg)
it_init
make_certs
add_user alice alice-pw

MODES="norotation rotation exec"
declare -A MODE_KEYS=(
	[norotation]="worker-template-max-forks = 0"
	[rotation]="worker-template-max-forks = $BENCH_FORKS"
	[exec]="worker-template = false"
)
declare -A MODE_NAME=(
	[norotation]="template, worker-template-max-forks = 0"
	[rotation]="template, worker-template-max-forks = $BENCH_FORKS"
	[exec]="no template (worker-template = false)"
)
# SAMPLES[MODE] and ANON[MODE]: PSS and its anonymous part per session (KiB), one per
# run; ROTATIONS[MODE]: templates retired.
declare -A SAMPLES=() ANON=() ROTATIONS=()

# measure MODE: a fresh server in that mode, BENCH_SESSIONS --script-tun clients 50 ms
# apart, the PSS of the server's process tree with them minus its PSS with none.
measure()
{
	local mode=$1 base abase n0 up pss anon rot
	SERVER_LOG=$WORK/$mode-$RUN.log
	write_config "udp-port = $PORT
max-clients = $((BENCH_SESSIONS + 16))
max-same-clients = 0
${MODE_KEYS[$mode]}"
	bench_start_server || return 0
	base=$(tree_pss_kib "$SERVER_PID")
	# Anonymous pages are shared only inside the server's tree, so other programs that
	# map the same libraries do not move this figure, as they move PSS.
	abase=$(tree_rollup_kib Pss_Anon: "$SERVER_PID")
	n0=$(tree_count "$SERVER_PID")
	clients_up "$mode-$RUN" "$BENCH_SESSIONS"
	up=$CLIENTS_UP
	if [ "$up" -ge "$BENCH_SESSIONS" ]; then
		# Let the workers finish their set-up, and retired templates exit.
		sleep 2
		pss=$(tree_pss_kib "$SERVER_PID")
		anon=$(tree_rollup_kib Pss_Anon: "$SERVER_PID")
		rot=$(grep -c 'worker template [0-9]* retired' "$SERVER_LOG")
		log "$mode: PSS $base KiB (anon $abase) with 0 sessions ($n0 processes)," \
			"$pss KiB (anon $anon) with $up ($(tree_count "$SERVER_PID") processes)," \
			"$rot templates retired"
		SAMPLES[$mode]+="$(((pss - base) / BENCH_SESSIONS)) "
		ANON[$mode]+="$(((anon - abase) / BENCH_SESSIONS)) "
		ROTATIONS[$mode]+="$rot "
	else
		log "$mode: only $up of $BENCH_SESSIONS sessions came up; no figure"
	fi
	stop_clients "${CLIENTS_NAMES[@]}"
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
		if (NR == 0) { print "n/a"; exit }
		printf "%s (%s-%s)\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

for RUN in $(seq 1 "$BENCH_RUNS"); do
	order=$MODES
	# Rotate the order so that no mode always runs first.
	for i in $(seq 2 "$RUN"); do
		order="${order#* } ${order%% *}"
	done
	for mode in $order; do
		log "run $RUN: $mode"
		measure "$mode"
	done
done

echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, Linux $(uname -r)," \
	"sluiced git $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo '?')," \
	"load average at start $START_LOAD; $BENCH_SESSIONS sessions, runs: $BENCH_RUNS"
echo
echo "| mode | PSS per session, KiB | anonymous PSS per session, KiB | templates retired per run |"
echo "| --- | --- | --- | --- |"
for mode in $MODES; do
	# shellcheck disable=SC2086 # one sample per word
	echo "| ${MODE_NAME[$mode]} | $(stats ${SAMPLES[$mode]:-}) | $(stats ${ANON[$mode]:-}) |" \
		"$(stats ${ROTATIONS[$mode]:-}) |"
done
echo
echo "Figures: median (min-max) over the runs."
pass
