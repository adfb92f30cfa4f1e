#!/bin/bash
# Sessions at scale: ramps N sessions (tests/bench/sluice-loadgen, one process) against
# sluiced and then, in the same run, as far as it goes against Debian's ocserv, with the
# same configuration, certificates and one password file (SHA-512-crypt, which both
# read). For each server it reports:
#   - sessions up and the time the ramp took (loadgen's "last established");
#   - the server's PSS in all and per session with N up (its process tree, from
#     /proc/PID/smaps_rollup, less its PSS with none);
#   - main's and sec's CPU while the N sessions are idle (keepalives and DPD only),
#     as a percentage of one core over IDLE_SECS;
#   - the latency of new logins while N are held: PROBE logins at 5 a second, p50/p99
#     from the TCP connect to the CONNECT answer;
#   - with FAULTS=1 (the default), sluiced only, while the N are held: the sessions lost
#     to HALF_OPEN TCP connections that send nothing (held 20 s), to GARBAGE DTLS
#     datagrams (random bytes, records and ClientHellos) from the sessions' own
#     addresses, and to a reload (SIGHUP); and KILL workers killed at random with
#     SIGKILL: how many sessions ended, and whether the audit log's session-end records
#     name exactly the killed workers, each with its byte counts;
#   - after SOAK seconds: sessions lost (held at the start of the soak, not at its end)
#     and how much the server's RSS grew;
#   - when the load generator then logs every session out and exits, the seconds until
#     the server has deleted the last session's TUN device.
# Prints a markdown table (sluiced, ocserv, ratio) on stdout; progress on stderr. Not
# part of make check; run as root. The machine's limits apply as they are: sluiced
# raises its soft descriptor limit to the hard one, and ocserv is started with the same.
#
# Environment: KEEP_DIR, a directory to copy each server's log and loadgen's output to;
# N (10000), RATE logins a second in the ramp (100), PROBE (50), SOAK
# seconds (600), IDLE_SECS (30), SERVERS ("sluiced ocserv"), DTLS=1 for DTLS sessions
# (then two loadgen processes share them: under a hard limit of 20,000 descriptors one
# process cannot hold 10,000 with two descriptors each). Addresses: 198.18.0.0/15 only.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TEST_NAME=scale
: "${N:=10000}" "${RATE:=100}" "${PROBE:=50}" "${SOAK:=600}" "${IDLE_SECS:=30}"
: "${SERVERS:=sluiced ocserv}" "${DTLS:=0}"
: "${FAULTS:=1}" "${HALF_OPEN:=2000}" "${GARBAGE:=50000}" "${KILL:=100}"
SERVER=ocserv
. "$top_srcdir/tests/integration/lib.sh"
. "$here/bench-lib.sh"
log() { printf '%s [%s] %s\n' "$(date +%T)" "$TEST_NAME" "$*" >&2; }
LOADGEN=${LOADGEN:-$top_builddir/tests/bench/sluice-loadgen}
[ -x "$LOADGEN" ] || fail "no $LOADGEN; run make first"
require_cmd jq openssl ocserv
it_init
make_certs

# One password file for both servers.
PASSWD_FILE=$WORK/passwd
printf 'alice:*:%s\n' "$(openssl passwd -6 alice-pw)" >"$PASSWD_FILE"

# Client addresses: 100 in client namespace 1 for the ramp (N/100 sessions each, well
# within the ephemeral ports), 10 more for the probe logins.
for i in $(seq 10 119); do
	a=198.18.0.$i
	check_addr "$a"
	ip -n "$NS_C1" addr add "$a/32" dev eth0 || fail "cannot add $a"
done
RAMP_SRC=198.18.0.10-198.18.0.109
PROBE_SRC=198.18.0.110-198.18.0.119
# A pool of 32,768 addresses.
POOL=198.19.0.0/17
check_addr 198.19.0.1

# cpu_ticks PID: utime + stime of one process.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# tree_rss_kib PID: RSS of PID and its descendants.
tree_rss_kib() { tree_rollup_kib Rss: "$1"; }
# progress FILE FIELD: the last value of FIELD= in loadgen's progress lines.
progress() { grep -o "$2=[0-9]*" "$1" 2>/dev/null | tail -1 | cut -d= -f2; }

declare -A R=()

# run SERVER: one server's figures into R[SERVER|name].
run()
{
	local srv=$1 base pss before_rss after_rss t0 held0 held1 main_t sec_t mpid spid hz up
	local limit=$((N * 2 / RATE + 300)) lg_dur=$((N / RATE + 600 + SOAK + 2 * IDLE_SECS)) probe_out
	SERVER=$srv
	SERVER_LOG=$WORK/$srv.log
	local extra=
	[ "$srv" = sluiced ] && extra="audit-log = $WORK/audit.log"
	write_config "max-clients = $((N + PROBE + 100))
max-same-clients = 0
ipv4-network = $POOL
route = $POOL
udp-port = $PORT
$extra"
	# Both servers get the machine's hard descriptor limit as their soft one.
	ulimit -Sn "$(ulimit -Hn)"
	bench_start_server || return 1
	sleep 2
	base=$(tree_pss_kib "$SERVER_PID")
	local dtls=()
	[ "$DTLS" = 1 ] && dtls=(--dtls)
	log "$srv: ramping to $N sessions at $RATE/s"
	ip netns exec "$NS_C1" "$LOADGEN" --server "$SRV_IP1:$PORT" --pin "$PIN" \
		--source "$RAMP_SRC" --user alice --password alice-pw --sessions "$N" --rate "$RATE" \
		--duration "$lg_dur" --login-timeout 60 --progress 5 "${dtls[@]}" --json \
		>"$WORK/$srv-ramp.json" 2>"$WORK/$srv-ramp.err" &
	local lg=$!
	OWN_PIDS+=("$lg")
	t0=$(date +%s)
	while :; do
		sleep 5
		up=$(progress "$WORK/$srv-ramp.err" established)
		held0=$(progress "$WORK/$srv-ramp.err" held)
		log "$srv: $(tail -1 "$WORK/$srv-ramp.err")"
		[ "${up:-0}" -ge "$N" ] && break
		kill -0 "$lg" 2>/dev/null || break
		# A ramp that stopped gaining for a minute is as far as this server goes.
		if [ $(($(date +%s) - t0)) -gt "$limit" ] ||
			{ [ -n "${last_up:-}" ] && [ "$up" = "$last_up" ] && [ $((++stalled)) -ge 12 ]; }; then
			log "$srv: the ramp stopped at $up sessions"
			break
		fi
		[ "$up" != "${last_up:-}" ] && stalled=0
		last_up=$up
	done
	unset last_up stalled
	R[$srv|up]=${held0:-0}
	R[$srv|ramp]=$(($(date +%s) - t0))
	sleep 10
	held0=$(progress "$WORK/$srv-ramp.err" held)
	pss=$(tree_pss_kib "$SERVER_PID")
	R[$srv|pss_mib]=$(((pss - base) / 1024))
	R[$srv|pss_per]=$([ "${held0:-0}" -gt 0 ] && echo $(((pss - base) / held0)) || echo n/a)
	R[$srv|procs]=$(tree_count "$SERVER_PID")
	# main and sec: sec is main's first child (both servers fork it first).
	mpid=$SERVER_PID
	spid=$(pgrep -P "$SERVER_PID" | sort -n | head -1)
	hz=$(getconf CLK_TCK)
	main_t=$(cpu_ticks "$mpid")
	sec_t=$(cpu_ticks "$spid")
	sleep "$IDLE_SECS"
	R[$srv|main_cpu]=$(awk -v a="$main_t" -v b="$(cpu_ticks "$mpid")" -v hz="$hz" -v s="$IDLE_SECS" \
		'BEGIN { printf "%.1f", (b - a) * 100 / hz / s }')
	R[$srv|sec_cpu]=$(awk -v a="$sec_t" -v b="$(cpu_ticks "$spid")" -v hz="$hz" -v s="$IDLE_SECS" \
		'BEGIN { printf "%.1f", (b - a) * 100 / hz / s }')
	log "$srv: $held0 held, PSS ${R[$srv|pss_mib]} MiB (${R[$srv|pss_per]} KiB a session), idle CPU main ${R[$srv|main_cpu]}% sec ${R[$srv|sec_cpu]}%"
	# New logins while the others are held.
	probe_out=$WORK/$srv-probe.json
	ip netns exec "$NS_C1" "$LOADGEN" --server "$SRV_IP1:$PORT" --pin "$PIN" \
		--source "$PROBE_SRC" --user alice --password alice-pw --sessions "$PROBE" --rate 5 \
		--duration $((PROBE / 5 + 15)) --login-timeout 60 --progress 0 --json \
		>"$probe_out" 2>"$WORK/$srv-probe.err"
	R[$srv|login_p50]=$(jq -r '.latency_ms.p50 // "n/a"' "$probe_out" 2>/dev/null)
	R[$srv|login_p99]=$(jq -r '.latency_ms.p99 // "n/a"' "$probe_out" 2>/dev/null)
	R[$srv|probe_ok]=$(jq -r '"\(.established)/\(.target)"' "$probe_out" 2>/dev/null)
	log "$srv: new logins with $held0 held: ${R[$srv|probe_ok]} up, p50 ${R[$srv|login_p50]} ms, p99 ${R[$srv|login_p99]} ms"
	[ "$FAULTS" = 1 ] && [ "$srv" = sluiced ] && faults "$srv" "$WORK/$srv-ramp.err"
	# The soak.
	held0=$(progress "$WORK/$srv-ramp.err" held)
	before_rss=$(tree_rss_kib "$SERVER_PID")
	sleep "$SOAK"
	held1=$(progress "$WORK/$srv-ramp.err" held)
	after_rss=$(tree_rss_kib "$SERVER_PID")
	R[$srv|lost]=$((held0 - held1))
	R[$srv|rss_growth]=$(((after_rss - before_rss) / 1024))
	log "$srv: soak of $SOAK s: $((held0 - held1)) sessions lost, RSS $((before_rss / 1024)) -> $((after_rss / 1024)) MiB"
	# All sessions end at once (the load generator logs them out and exits): the time
	# until the server has deleted the last TUN device.
	local t1 n
	t1=$(date +%s.%N)
	kill -TERM "$lg" 2>/dev/null
	wait "$lg" 2>/dev/null
	for _ in $(seq 1 1200); do
		n=$(ip -n "$NS_SRV" -o link show 2>/dev/null | grep -c ': vpns')
		[ "$n" = 0 ] && break
		sleep 0.5
	done
	R[$srv|teardown]=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
	[ "$n" = 0 ] || R[$srv|teardown]+=" ($n devices left)"
	log "$srv: all sessions ended: devices gone after ${R[$srv|teardown]} s"
	R[$srv|failures]=$(jq -c '.failures' "$WORK/$srv-ramp.json" 2>/dev/null || echo n/a)
	stop_server
	[ -n "${KEEP_DIR:-}" ] && mkdir -p "$KEEP_DIR" &&
		cp "$SERVER_LOG" "$WORK/$srv-ramp.err" "$WORK/$srv-ramp.json" "$KEEP_DIR/"
	# The next server starts clean: the kernel frees the old sessions' sockets.
	sleep 5
}

# held_after FILE: loadgen's held count from a progress line written after now.
held_after()
{
	local n
	n=$(grep -c . "$1")
	for _ in $(seq 1 30); do
		[ "$(grep -c . "$1")" -gt "$n" ] && break
		sleep 0.5
	done
	progress "$1" held
}

# faults SERVER LOADGEN-PROGRESS: the faults of FAULTS=1 while the sessions are held.
faults()
{
	local srv=$1 pf=$2 h0 h1 n c0 killed ended
	h0=$(held_after "$pf")
	log "$srv: $HALF_OPEN half-open TCP connections, held 20 s"
	n=$(ip netns exec "$NS_C1" python3 "$here/faults.py" half-open "$SRV_IP1" "$PORT" \
		"$PROBE_SRC" "$HALF_OPEN" 20)
	h1=$(held_after "$pf")
	R[$srv|halfopen]="$((h0 - h1)) of $h0 ($n made)"
	log "$srv: half-open: ${R[$srv|halfopen]}"
	h0=$h1
	log "$srv: $GARBAGE garbage DTLS datagrams at 5000/s from the sessions' addresses"
	n=$(ip netns exec "$NS_C1" python3 "$here/faults.py" dtls-garbage "$SRV_IP1" "$PORT" \
		"$RAMP_SRC" "$GARBAGE" 5000)
	h1=$(held_after "$pf")
	R[$srv|garbage]="$((h0 - h1)) of $h0 ($n sent)"
	log "$srv: garbage DTLS: ${R[$srv|garbage]}"
	h0=$h1
	# Workers: main's children that run "sluice-worker" (not sec, not the template).
	c0=$(grep -c '"session-end"' "$WORK/audit.log")
	# One pass over /proc: main's children named sluice-worker, less the template(s).
	killed=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v m="$SERVER_PID" '
		{ line = $0; sub(/^.*\) /, "", line); split(line, f, " ") }
		f[2] == m && $2 == "(sluice-worker)" { print $1 }' |
		while read -r p; do
			mapfile -d '' args 2>/dev/null </proc/$p/cmdline || continue
			[ "${args[1]:-}" = --template ] || echo "$p"
		done | shuf -n "$KILL" | sort -n)
	log "$srv: SIGKILL to $(wc -w <<<"$killed") workers"
	kill -KILL $killed
	for _ in $(seq 1 60); do
		[ "$(grep -c '"session-end"' "$WORK/audit.log")" -ge $((c0 + KILL)) ] && break
		sleep 0.5
	done
	sleep 2
	ended=$(tail -n +1 "$WORK/audit.log" | jq -r 'select(.event == "session-end") | .worker_pid' |
		tail -n +$((c0 + 1)) | sort -n)
	h1=$(held_after "$pf")
	R[$srv|killed]="$((h0 - h1)) of $h0 lost"
	if [ "$ended" = "$killed" ] &&
		tail -n +1 "$WORK/audit.log" | jq -s --argjson c "$c0" '
			[.[] | select(.event == "session-end")][$c:]
			| all(has("bytes_in") and has("bytes_out"))' | grep -qx true; then
		R[$srv|killed]+="; session-end records: exactly the killed workers, with bytes"
	else
		R[$srv|killed]+="; session-end records: $(wc -w <<<"$ended") for $(wc -w <<<"$killed") killed, $(comm -3 <(echo "$ended") <(echo "$killed") | wc -l) differ"
	fi
	log "$srv: killed workers: ${R[$srv|killed]}"
	h0=$h1
	log "$srv: reload (SIGHUP)"
	kill -HUP "$SERVER_PID"
	sleep 5
	h1=$(held_after "$pf")
	R[$srv|reload]="$((h0 - h1)) of $h0"
	log "$srv: reload: ${R[$srv|reload]}"
}

for s in $SERVERS; do
	run "$s" || log "$s: no figures"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() # TITLE KEY
{
	printf '| %s | %s | %s | %s |\n' "$1" "${R[sluiced|$2]:-n/a}" "${R[ocserv|$2]:-n/a}" \
		"$(ratio "${R[sluiced|$2]:-}" "${R[ocserv|$2]:-}")"
}
echo "Sessions at scale: N=$N, ramp $RATE logins/s, soak $SOAK s$([ "$DTLS" = 1 ] && echo ", DTLS"); $(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| figure | sluiced | ocserv | sluiced / ocserv |"
echo "| --- | --- | --- | --- |"
row "sessions up" up
row "ramp time, s" ramp
row "server PSS with them up, MiB" pss_mib
row "PSS per session, KiB" pss_per
row "processes" procs
row "main's CPU while idle, % of a core" main_cpu
row "sec's CPU while idle, % of a core" sec_cpu
row "new logins up" probe_ok
row "new login p50, ms" login_p50
row "new login p99, ms" login_p99
row "sessions lost in the soak" lost
if [ "$FAULTS" = 1 ]; then
	printf '| sessions lost to %s half-open TCP connections | %s | not run | |\n' "$HALF_OPEN" "${R[sluiced|halfopen]:-n/a}"
	printf '| sessions lost to %s garbage DTLS datagrams | %s | not run | |\n' "$GARBAGE" "${R[sluiced|garbage]:-n/a}"
	printf '| %s workers killed (SIGKILL) | %s | not run | |\n' "$KILL" "${R[sluiced|killed]:-n/a}"
	printf '| sessions lost to a reload | %s | not run | |\n' "${R[sluiced|reload]:-n/a}"
fi
row "RSS growth in the soak, MiB" rss_growth
row "all sessions ended at once: s until the last TUN device is gone" teardown
echo
echo "Ramp failures by cause: sluiced ${R[sluiced|failures]:-n/a}; ocserv ${R[ocserv|failures]:-n/a}"
pass >/dev/null 2>&1
