# shellcheck shell=bash
# The table of tests/bench/bench.sh, sourced by it: reads SAMPLES[SERVER|METRIC] (one
# sample per run, space-separated) and HEADER (from versions, taken at the start) and
# prints markdown to stdout.

# summary SAMPLES DECIMALS: "median (min-max)", or "n/a" without samples.
summary()
{
	tr ' ' '\n' <<<"$1" | sort -g | awk -v d="$2" 'NF { v[++n] = $1 }
		END { if (n == 0) { print "n/a"; exit }
			f = "%." d "f"
			if (n % 2) m = v[(n + 1) / 2]; else m = (v[n / 2] + v[n / 2 + 1]) / 2
			printf f " (" f "-" f ")\n", m, v[1], v[n] }'
}

# ratio A B: the ratio of two summaries' medians, "n/a" unless both are positive.
ratio()
{
	awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN {
		if (a + 0 > 0 && b + 0 > 0) printf "%.2f\n", a / b; else print "n/a" }'
}

# row LABEL METRIC DECIMALS
row()
{
	local a b
	a=$(summary "${SAMPLES[sluiced|$2]:-}" "$3")
	b=$(summary "${SAMPLES[ocserv|$2]:-}" "$3")
	printf '| %s | %s | %s | %s |\n' "$1" "$a" "$b" "$(ratio "$a" "$b")"
}

# used SERVER: "K/N", the runs in which openconnect established DTLS.
used()
{
	local s=${SAMPLES[$1|dtls.used]:-} k=0 n=0 x
	for x in $s; do
		n=$((n + 1))
		k=$((k + x))
	done
	if [ "$n" = 0 ]; then echo "n/a"; else echo "$k/$n"; fi
}

versions()
{
	local cpu gnutls oc ocs sl rev
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	gnutls=$(openconnect --version 2>&1 | sed -n 's/.*Using GnuTLS \([0-9][0-9.]*[0-9]\).*/\1/p')
	oc=$(openconnect --version 2>&1 | sed -n 's/^OpenConnect version v*//p')
	ocs=$(ocserv --version 2>&1 | awk 'NR == 1 { print $2 }')
	sl=$("$top_builddir/src/sluiced" --version 2>/dev/null | awk '{ print $2 }')
	rev=$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null)
	printf '%s, %s, %s cores, Linux %s, GnuTLS %s, openconnect %s, ocserv %s, sluiced %s%s, load average at start %s\n' \
		"$(date -u +%Y-%m-%dT%H:%MZ)" "${cpu:-unknown CPU}" "$(nproc)" "$(uname -r)" \
		"${gnutls:-?}" "${oc:-?}" "${ocs:-?}" "${sl:-n/a}" "${rev:+ (git $rev)}" "$START_LOAD"
}

report()
{
	local k kind t dir
	local -A tname=([up1]="1 stream, client to server" [up4]="4 streams, client to server"
		[down1]="1 stream, server to client" [down4]="4 streams, server to client")
	local -A kname=([tls]="TLS (--no-dtls)" [dtls]="DTLS" [veth]="bare veth (ceiling)")
	local -A dname=([up]="client to server" [down]="server to client")
	echo
	echo "$HEADER; runs: $BENCH_RUNS, alternating the servers; iperf3 -t $BENCH_SECONDS"
	echo
	echo "| metric | sluice median (min-max) | ocserv median (min-max) | sluice/ocserv |"
	echo "| --- | --- | --- | --- |"
	for kind in tls dtls veth; do
		for t in $TESTS; do
			row "${kname[$kind]} TCP ${tname[$t]}, Mbit/s" "$kind.$t" 0
		done
	done
	for kind in tls dtls; do
		for dir in up down; do
			row "server CPU s/GiB, ${kname[$kind]}, ${dname[$dir]}" "cpu.srv.$kind.$dir" 2
			row "client CPU s/GiB, ${kname[$kind]}, ${dname[$dir]}" "cpu.cli.$kind.$dir" 2
			row "machine busy CPU s/GiB, ${kname[$kind]}, ${dname[$dir]}" "cpu.all.$kind.$dir" 2
		done
	done
	for dir in up down; do
		row "machine busy CPU s/GiB, bare veth, ${dname[$dir]}" "cpu.all.veth.$dir" 2
	done
	for kind in tls dtls; do
		for k in p50 p99; do
			row "ping RTT added by the tunnel, ${kname[$kind]}, $k, ms" "rtt.$kind.$k" 3
		done
	done
	for k in p50 p99; do
		row "ping RTT, bare veth, $k, ms" "veth.$k" 3
	done
	row "client start to usable tunnel (median of $BENCH_SETUPS), ms" setup 0
	row "PSS per session with $BENCH_CLIENTS sessions, KiB" pss 0
	printf '| DTLS established by openconnect (runs) | %s | %s | |\n' \
		"$(used sluiced)" "$(used ocserv)"
}
