#!/bin/bash
# The benchmark: sluiced against Debian's ocserv in one run, with the same configuration,
# password file, certificates and openconnect client, in network namespaces of its own
# (198.18.0.0/15 only). Alternates the servers over BENCH_RUNS runs and prints one
# markdown table: per metric the median and range of each server and the ratio of the
# medians sluice/ocserv. The method is in tests/bench/README.md. Not part of make check.
#
# Environment: BENCH_RUNS (3), BENCH_SECONDS per iperf3 run (5), BENCH_PINGS per RTT
# figure (200), BENCH_SETUPS client starts per set-up figure (10), BENCH_CLIENTS for
# the memory figure (20), BENCH_SERVERS ("sluiced ocserv"). Progress goes to stderr,
# the table to stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TEST_NAME=bench
: "${BENCH_RUNS:=3}" "${BENCH_SECONDS:=5}" "${BENCH_PINGS:=200}" "${BENCH_SETUPS:=10}"
: "${BENCH_CLIENTS:=20}" "${BENCH_SERVERS:=sluiced ocserv}"
for v in BENCH_RUNS BENCH_SECONDS BENCH_PINGS BENCH_SETUPS BENCH_CLIENTS; do
	[[ ${!v} =~ ^[1-9][0-9]{0,2}$ ]] || {
		echo "bench: $v must be 1..999" >&2
		exit 2
	}
done
# The harness starts as ocserv, which is always there; a missing sluiced is "n/a".
SERVER=ocserv
. "$top_srcdir/tests/integration/lib.sh"
. "$here/bench-lib.sh"
. "$here/bench-report.sh"
log() { printf '%s [%s] %s\n' "$(date +%T)" "$TEST_NAME" "$*" >&2; }
require_cmd iperf3 jq ping ss ocpasswd
# Taken before the runs: the binaries measured, and how busy the machine was (other
# work shows in the machine's busy CPU).
START_LOAD=$(cut -d ' ' -f 1 /proc/loadavg)
HEADER=$(versions)
it_init
make_certs
# ocpasswd writes the file; sluiced reads the same format.
add_user alice alice-pw

# Keys both servers read, so that one address may open many sessions (testing.md);
# lib.sh's write_config adds the common rest and, for ocserv only, its private control
# socket, rate-limit-ms = 0 and max-ban-score = 0 (keys sluiced refuses).
OVERRIDES="udp-port = $PORT
max-clients = 64
max-same-clients = 0"

# SAMPLES[SERVER|METRIC]: the samples of a metric, one per run, space-separated.
declare -A SAMPLES=()
add() { SAMPLES[$1|$2]+="$3 "; }

TESTS="up1 up4 down1 down4"
# iperf3 options of each test.
declare -A IPERF_OPTS=([up1]="" [up4]="-P 4" [down1]="-R" [down4]="-R -P 4")

# throughput SERVER KIND DEST CLIENT-PID: the four iperf3 tests; adds their Mbit/s and,
# per direction, the CPU seconds per GiB moved of the VPN server, the client and the
# machine (the 1- and 4-stream runs of one direction summed).
throughput()
{
	local srv=$1 kind=$2 dst=$3 cpid=$4 t dir mbit b s c m
	local -A bytes=() sticks=() cticks=() mticks=()
	for t in $TESTS; do
		# shellcheck disable=SC2086 # the options are words
		if iperf "$NS_C1" "$dst" "$cpid" ${IPERF_OPTS[$t]}; then
			read -r mbit b s c m <<<"$IPERF_RESULT"
			add "$srv" "$kind.$t" "$mbit"
			dir=${t%[14]}
			bytes[$dir]=$((${bytes[$dir]:-0} + b))
			sticks[$dir]=$((${sticks[$dir]:-0} + s))
			cticks[$dir]=$((${cticks[$dir]:-0} + c))
			mticks[$dir]=$((${mticks[$dir]:-0} + m))
			log "$srv $kind $t: $mbit Mbit/s, $b bytes, ticks server $s client $c machine $m"
		else
			log "$srv $kind $t: iperf3 failed"
		fi
	done
	for dir in up down; do
		[ -n "${bytes[$dir]:-}" ] || continue
		per_gib "$srv" "cpu.srv.$kind.$dir" "${sticks[$dir]}" "${bytes[$dir]}"
		per_gib "$srv" "cpu.cli.$kind.$dir" "${cticks[$dir]}" "${bytes[$dir]}"
		per_gib "$srv" "cpu.all.$kind.$dir" "${mticks[$dir]}" "${bytes[$dir]}"
	done
}

# per_gib SERVER METRIC TICKS BYTES: adds CPU seconds per GiB.
per_gib()
{
	add "$1" "$2" "$(awk -v t="$3" -v b="$4" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.4f", t / hz / (b / 1073741824) }')"
}

# rtt_added SERVER KIND DEST VETH-RTT: adds the tunnel's p50 and p99 minus the veth's.
rtt_added()
{
	local q t50 t99 v50 v99
	[ -n "$4" ] || return 0
	q=$(rtt "$NS_C1" "$3") || {
		log "$1 $2: no ping answers"
		return 0
	}
	log "$1 $2 RTT p50 p99: $q ms (veth $4)"
	read -r t50 t99 <<<"$q"
	read -r v50 v99 <<<"$4"
	add "$1" "rtt.$2.p50" "$(awk -v a="$t50" -v b="$v50" 'BEGIN { printf "%.3f", a - b }')"
	add "$1" "rtt.$2.p99" "$(awk -v a="$t99" -v b="$v99" 'BEGIN { printf "%.3f", a - b }')"
}

# veth SERVER: the bare veth figures, measured in each server's slot so that the two
# columns show how much the machine drifts; sets VETH_RTT ("P50 P99") for rtt_added.
veth()
{
	throughput "$1" veth "$SRV_IP1" ""
	local v50 v99
	VETH_RTT=$(rtt "$NS_C1" "$SRV_IP1") || {
		VETH_RTT=
		return 0
	}
	read -r v50 v99 <<<"$VETH_RTT"
	add "$1" veth.p50 "$v50"
	add "$1" veth.p99 "$v99"
}

# memory SERVER: PSS per session with BENCH_CLIENTS --script-tun clients, minus the
# server's PSS with none, on the freshly started server.
memory()
{
	local srv=$1 base n0 up pss
	base=$(tree_pss_kib "$SERVER_PID")
	n0=$(tree_count "$SERVER_PID")
	clients_up "$srv-many$RUN" "$BENCH_CLIENTS"
	up=$CLIENTS_UP
	if [ "$up" -ge "$BENCH_CLIENTS" ]; then
		# Let the workers finish their set-up (tun, routes, their first allocations).
		sleep 1
		pss=$(tree_pss_kib "$SERVER_PID")
		log "$srv PSS: $base KiB with 0 sessions ($n0 processes)," \
			"$pss KiB with $up ($(tree_count "$SERVER_PID") processes)"
		add "$srv" pss "$(((pss - base) / BENCH_CLIENTS))"
	else
		log "$srv: only $up of $BENCH_CLIENTS sessions came up; no PSS figure"
	fi
	stop_clients "${CLIENTS_NAMES[@]}"
	wait_tree "$SERVER_PID" "$n0" || log "$srv: workers still alive 10 s after disconnect"
}

# setup SERVER: the median of BENCH_SETUPS client starts to a usable tunnel.
setup()
{
	local srv=$1 i ms all=
	for i in $(seq 1 "$BENCH_SETUPS"); do
		if usable "$srv-setup$RUN-$i"; then
			all+="$USABLE_MS"$'\n'
		else
			log "$srv: client start $i gave no usable tunnel"
		fi
		stop_client "$srv-setup$RUN-$i" INT
	done
	[ -n "$all" ] || return 0
	ms=$(quantiles <<<"$all") && add "$srv" setup "${ms%% *}"
	log "$srv set-up ms:" $all
}

# tunnel SERVER KIND VETH-RTT: one client (KIND tls or dtls) for RTT and throughput.
# DTLS figures are kept only when openconnect says it established DTLS; "dtls.used"
# counts the runs in which it did.
tunnel()
{
	local srv=$1 kind=$2 name=$1-$2-$RUN a dst i u0
	bench_client "$name" "$kind"
	if ! a=$(wait_tunnel "$name" 20) || ! dst=$(server_tun_ip "$a"); then
		log "$srv $kind: no tunnel"
		stop_client "$name" INT
		return 0
	fi
	if [ "$kind" = dtls ]; then
		for i in $(seq 1 50); do
			grep -q 'Established DTLS connection' "${CLIENT_LOG[$name]}" && break
			sleep 0.1
		done
		if ! grep -q 'Established DTLS connection' "${CLIENT_LOG[$name]}"; then
			log "$srv: openconnect established no DTLS; DTLS figures n/a for this run"
			add "$srv" dtls.used 0
			stop_client "$name" INT
			return 0
		fi
		add "$srv" dtls.used 1
		log "$srv: openconnect: $(grep -m1 'Established DTLS connection' "${CLIENT_LOG[$name]}")"
	fi
	u0=$(udp_datagrams)
	rtt_added "$srv" "$kind" "$dst" "$3"
	throughput "$srv" "$kind" "$dst" "${CLIENT_PID[$name]}"
	# A second witness besides openconnect's word: with DTLS the tunnel's packets are
	# UDP datagrams of the server's namespace; over TLS there are next to none.
	log "$srv $kind: $(($(udp_datagrams) - u0)) UDP datagrams in and out of the server namespace"
	stop_client "$name" INT
}

slot()
{
	local srv=$1
	SERVER=$srv
	SERVER_LOG=$WORK/$srv.log
	log "run $RUN: $srv"
	veth "$srv"
	if [ ! -x "$(server_bin)" ]; then
		log "$srv: $(server_bin) is not built; its column is n/a"
		return 0
	fi
	write_config "$OVERRIDES"
	bench_start_server || return 0
	memory "$srv"
	setup "$srv"
	tunnel "$srv" tls "$VETH_RTT"
	tunnel "$srv" dtls "$VETH_RTT"
	stop_server
}

for RUN in $(seq 1 "$BENCH_RUNS"); do
	order=$BENCH_SERVERS
	# Alternate the order so that neither server always runs on a warmer machine.
	[ $((RUN % 2)) = 0 ] && order=$(echo "$order" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
	for s in $order; do
		slot "$s"
	done
done

report
pass
