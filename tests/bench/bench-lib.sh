# shellcheck shell=bash disable=SC2034 # sourced; the globals are used by its sourcer
# Helpers of tests/bench/bench.sh, sourced after tests/integration/lib.sh: CPU and
# memory accounting from /proc, bounded measurements (iperf3, ping, tunnel set-up) and
# non-fatal variants of the harness's server and client start. A measurement that fails
# returns non-zero and prints nothing, so that bench.sh records "n/a" and goes on.

CLK_TCK=$(getconf CLK_TCK)
# The client end of --script-tun: openconnect hands the script the VPN socket as fd
# $VPNFD. Reading it to EOF keeps the session up without a tun device and ends by itself
# when openconnect exits.
# shellcheck disable=SC2016 # expanded by the shell openconnect runs
SCRIPT_TUN='exec cat <&"$VPNFD" >/dev/null'

# tree_ticks PID: CPU clock ticks used so far by PID and all its descendants, live or
# already reaped. For every live process of the tree: utime + stime (fields 14, 15 of
# /proc/PID/stat) + cutime + cstime (16, 17). A process that ended and was reaped by a
# process of the tree (a worker reaped by main) is in its reaper's cutime/cstime and no
# longer in the process list, so nothing is counted twice or lost. Prints 0 for no PID.
tree_ticks()
{
	local p s f sum=0
	[ -n "${1:-}" ] || {
		echo 0
		return 0
	}
	for p in $(descendants "$1") "$1"; do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		# comm (field 2) may hold spaces and parentheses: fields start after the last ")".
		read -ra f <<<"${s##*) }"
		sum=$((sum + f[11] + f[12] + f[13] + f[14]))
	done
	echo "$sum"
}

# busy_ticks: the machine's busy CPU ticks so far, all CPUs: the /proc/stat "cpu" line
# minus idle and iowait; guest time is already in user time and is not added again.
# softirq is in, so work the kernel does for the tunnel (veth, TCP, tun) counts.
busy_ticks()
{
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# udp_datagrams: UDP datagrams received plus sent so far in the server namespace.
udp_datagrams()
{
	ip netns exec "$NS_SRV" cat /proc/net/snmp | awk '$1 == "Udp:" {
		if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1; next }
		print $col["InDatagrams"] + $col["OutDatagrams"]; exit }'
}

# tree_pids PID: PID and its descendants, one a line, from one pass over /proc (lib.sh's
# descendants runs pgrep per process, which takes minutes for thousands of workers).
tree_pids()
{
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
		{ line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
		  kids[f[2]] = kids[f[2]] " " $1 }
		END { n = 1; q[1] = root; print root
		      for (i = 1; i <= n; i++) {
			      m = split(kids[q[i]], c, " ")
			      for (j = 1; j <= m; j++) { q[++n] = c[j]; print c[j] } } }'
}

# tree_rollup_kib FIELD PID: a smaps_rollup field (KiB, e.g. "Pss:") summed over PID and
# its descendants.
tree_rollup_kib()
{
	tree_pids "$2" | awk -v f="$1" '{
		file = "/proc/" $1 "/smaps_rollup"
		while ((getline line < file) > 0) {
			split(line, w, " ")
			if (w[1] == f) { sum += w[2]; break }
		}
		close(file)
	} END { print sum + 0 }'
}

# tree_pss_kib PID: PSS (KiB) summed over PID and its descendants.
tree_pss_kib() { tree_rollup_kib Pss: "$1"; }

# tree_count PID: number of processes in the tree of PID.
tree_count() { tree_pids "$1" | wc -l; }

# bench_start_server: lib.sh's start_server, but a server that does not start is a
# failed measurement (return 1), not the end of the benchmark.
bench_start_server()
{
	local bin i
	bin=$(server_bin)
	ip netns exec "$NS_SRV" "$bin" -f -c "$SERVER_CONF" >>"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	for i in $(seq 1 100); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			log "$SERVER exited during start-up:"
			tail -n 20 "$SERVER_LOG" >&2
			SERVER_PID=
			return 1
		fi
		if ip netns exec "$NS_SRV" ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q LISTEN; then
			log "$SERVER started (pid $SERVER_PID)"
			return 0
		fi
		sleep 0.1
	done
	log "$SERVER does not listen on port $PORT after 10 s"
	stop_server
	return 1
}

# bench_client NAME MODE: starts openconnect (user alice) in client namespace 1.
# MODE tls: --no-dtls; dtls: DTLS allowed (as users run it); many: --no-dtls and
# --script-tun, no tun device. The options are lib.sh's start_client ones.
bench_client()
{
	local name=$1 ifn=oc$CLIENT_SEQ script=$VPNC_SCRIPT opts=()
	case $2 in
	tls) opts=(--no-dtls --interface "$ifn") ;;
	dtls) opts=(--interface "$ifn") ;;
	many)
		script=$SCRIPT_TUN
		opts=(--no-dtls --script-tun)
		;;
	*) fail "bench_client: unknown mode '$2'" ;;
	esac
	CLIENT_SEQ=$((CLIENT_SEQ + 1))
	CLIENT_LOG[$name]=$WORK/client-$name.log
	CLIENT_NS[$name]=$NS_C1
	CLIENT_IF[$name]=$ifn
	ip netns exec "$NS_C1" openconnect --script "$script" --non-inter --passwd-on-stdin \
		--user alice --servercert "$PIN" "${opts[@]}" "https://$SRV_IP1:$PORT/" \
		<<<"alice-pw" >"${CLIENT_LOG[$name]}" 2>&1 &
	CLIENT_PID[$name]=$!
}

# quantiles: reads numbers, one a line; prints "P50 P99" (nearest rank), nothing if none.
quantiles()
{
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) exit 1
			i = int(NR * 0.5 + 0.999); j = int(NR * 0.99 + 0.999)
			printf "%.3f %.3f\n", v[i], v[j] }'
}

# rtt NS DEST: "P50 P99" in ms of BENCH_PINGS pings 20 ms apart (bounded deadline).
rtt()
{
	check_addr "$2"
	ip netns exec "$1" ping -n -c "$BENCH_PINGS" -i 0.02 -W 2 \
		-w $((BENCH_PINGS / 50 + 10)) "$2" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | quantiles
}

# iperf NS DEST CLIENT-PID [iperf3 options]: one bounded iperf3 TCP run of BENCH_SECONDS
# to an iperf3 server bound to DEST in the server namespace, with CPU sampled just
# before and after the client's run. Sets IPERF_RESULT to "MBITS BYTES SERVER CLIENT
# BUSY": the receiver's Mbit/s and payload bytes, and the ticks used by the VPN server's
# process tree, the openconnect process tree (CLIENT-PID; 0 when empty) and the machine.
# Not run in a subshell, so that the iperf3 server is in OWN_PIDS for the cleanup.
iperf()
{
	local ns=$1 dst=$2 cpid=$3 spid out rc i s0 c0 m0 s1 c1 m1
	shift 3
	IPERF_RESULT=
	check_addr "$dst"
	ip netns exec "$NS_SRV" timeout $((BENCH_SECONDS + 30)) \
		iperf3 -s -1 -B "$dst" -p 5201 >/dev/null 2>&1 &
	spid=$!
	OWN_PIDS+=("$spid")
	for i in $(seq 1 50); do
		ip netns exec "$NS_SRV" ss -Hltn "sport = :5201" | grep -q LISTEN && break
		sleep 0.1
	done
	s0=$(tree_ticks "$SERVER_PID")
	c0=$(tree_ticks "$cpid")
	m0=$(busy_ticks)
	out=$(ip netns exec "$ns" timeout $((BENCH_SECONDS + 20)) iperf3 -c "$dst" -p 5201 \
		-t "$BENCH_SECONDS" --json "$@")
	rc=$?
	m1=$(busy_ticks)
	c1=$(tree_ticks "$cpid")
	s1=$(tree_ticks "$SERVER_PID")
	stop_pid "$spid"
	[ "$rc" = 0 ] || return 1
	IPERF_RESULT=$(jq -er --arg cpu "$((s1 - s0)) $((c1 - c0)) $((m1 - m0))" \
		'.end.sum_received | select(.bytes > 0) |
		"\(.bits_per_second / 1e6) \(.bytes) \($cpu)"' <<<"$out" 2>/dev/null)
}

# usable NAME: starts a --no-dtls client and sets USABLE_MS to the milliseconds from
# its start to the first ping answered by the server's end of the tunnel, polled every
# 20 ms (bounded: 20 s); returns 1 without a usable tunnel.
usable()
{
	local name=$1 t0 a dst='' i
	USABLE_MS=
	t0=$(date +%s%N)
	bench_client "$name" tls
	for i in $(seq 1 1000); do
		kill -0 "${CLIENT_PID[$name]}" 2>/dev/null || return 1
		if [ -z "$dst" ] && a=$(client_addr "$name") && [ -n "$a" ]; then
			dst=$(server_tun_ip "$a") || dst=
		fi
		if [ -n "$dst" ] && ip netns exec "$NS_C1" ping -n -q -c 1 -W 1 "$dst" >/dev/null 2>&1; then
			USABLE_MS=$((($(date +%s%N) - t0) / 1000000))
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# sessions_up NAME...: how many of the named clients run and have printed their
# "Configured as ..." line (openconnect's own word that the session is up).
sessions_up()
{
	local n=0 c
	for c in "$@"; do
		kill -0 "${CLIENT_PID[$c]}" 2>/dev/null &&
			grep -q '^Configured as ' "${CLIENT_LOG[$c]}" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

# clients_up PREFIX N: starts N --script-tun clients PREFIX-1 ... PREFIX-N 50 ms apart
# and waits (60 s at most) until they are up. Sets CLIENTS_NAMES to their names and
# CLIENTS_UP to how many are up.
clients_up()
{
	local i
	CLIENTS_NAMES=()
	CLIENTS_UP=0
	for i in $(seq 1 "$2"); do
		bench_client "$1-$i" many
		CLIENTS_NAMES+=("$1-$i")
		sleep 0.05
	done
	for i in $(seq 1 600); do
		CLIENTS_UP=$(sessions_up "${CLIENTS_NAMES[@]}")
		[ "$CLIENTS_UP" -ge "$2" ] && break
		sleep 0.1
	done
}

# stop_clients NAME...: INT to all (a CSTP DISCONNECT each), then bounded waits.
stop_clients()
{
	local c
	for c in "$@"; do
		kill -INT "${CLIENT_PID[$c]}" 2>/dev/null
	done
	for c in "$@"; do
		stop_client "$c" INT
	done
}

# wait_tree PID COUNT: waits (bounded: 10 s) until the tree of PID has COUNT processes
# again (the workers of ended sessions are gone).
wait_tree()
{
	local i
	for i in $(seq 1 100); do
		[ "$(tree_count "$1")" -le "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
