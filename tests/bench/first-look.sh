#!/bin/bash
# First side-by-side look at sluiced and Debian's ocserv, in one run with the same
# configuration, password file, certificates and openconnect client (TLS only,
# --no-dtls): bare veth iperf3 and ping as the ceiling, then per server iperf3 single
# stream in both directions (5 s) and ping RTT (50 pings, 50 ms apart) through the
# tunnel. Prints a markdown table with the ratio sluice/ocserv. Without a built
# sluiced the sluice column shows "n/a". One run is one sample: the machine is shared
# and noisy, so repeat it and compare ratios.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
TEST_NAME=first-look
# The harness is initialised for ocserv, which is always there; sluiced is optional.
SERVER=ocserv
. "$top_srcdir/tests/integration/lib.sh"
require_cmd iperf3 jq ocpasswd
it_init
IPERF_SECONDS=5
make_certs
# ocpasswd writes the file; sluiced reads the same format.
add_user alice alice-pw

declare -A R

# rtt_stats NS DEST: prints "AVG P99" in ms from 50 pings 50 ms apart.
rtt_stats()
{
	ip netns exec "$1" ping -n -c 50 -i 0.05 -W 2 -w 20 "$2" 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
		awk '{ v[NR] = $1; s += $1 }
			END { if (NR == 0) { print "n/a n/a"; exit }
				i = int(NR * 0.99 + 0.999); printf "%.3f %.3f\n", s / NR, v[i] }'
}

# measure KEY NS DEST: fills R[KEY.up], R[KEY.down], R[KEY.rtt], R[KEY.p99].
measure()
{
	local key=$1 ns=$2 dst=$3 stats
	R[$key.up]=$(iperf_run "$ns" "$dst") || R[$key.up]=fail
	R[$key.down]=$(iperf_run "$ns" "$dst" -R) || R[$key.down]=fail
	stats=$(rtt_stats "$ns" "$dst")
	R[$key.rtt]=${stats% *}
	R[$key.p99]=${stats#* }
	log "$key: up ${R[$key.up]} Mbit/s, down ${R[$key.down]} Mbit/s," \
		"RTT avg ${R[$key.rtt]} ms, p99 ${R[$key.p99]} ms"
}

log "bare veth $CLI_IP1 -> $SRV_IP1"
measure veth "$NS_C1" "$SRV_IP1"

for srv in sluiced ocserv; do
	SERVER=$srv
	if [ ! -x "$(server_bin)" ]; then
		log "$srv: $(server_bin) not built; column n/a"
		continue
	fi
	SERVER_LOG=$WORK/$srv.log
	write_config
	start_server
	t0=$(date +%s%N)
	start_client "$srv" "$NS_C1" alice alice-pw
	if vpn_ip=$(wait_tunnel "$srv" 20); then
		R[$srv.setup]=$((($(date +%s%N) - t0) / 1000000))
		measure "$srv" "$NS_C1" "$(server_tun_ip "$vpn_ip")"
	else
		log "$srv: no tunnel; column n/a"
		tail -n 20 "$SERVER_LOG"
	fi
	stop_client "$srv" INT
	stop_server
done

v() { echo "${R[$1]:-n/a}"; }
ratio()
{
	awk -v a="$(v "sluiced.$1")" -v b="$(v "ocserv.$1")" 'BEGIN {
		if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}
row()
{
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$(v "sluiced.$2")" "$(v "ocserv.$2")" \
		"$(ratio "$2")" "${3:-}"
}
echo
echo "first look, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, openconnect --no-dtls, one sample"
echo
echo "| metric | sluice | ocserv | sluice/ocserv | bare veth |"
echo "| --- | --- | --- | --- | --- |"
row "iperf3 TCP client->server, Mbit/s" up "$(v veth.up)"
row "iperf3 TCP server->client (-R), Mbit/s" down "$(v veth.down)"
row "ping RTT avg, ms" rtt "$(v veth.rtt)"
row "ping RTT p99, ms" p99 "$(v veth.p99)"
row "client start to tunnel up, ms" setup
pass
