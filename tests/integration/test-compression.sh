#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# compression = true with openconnect 9.01, which offers oc-lz4 and lzs on both
# channels: LZ4 over CSTP, LZS over DTLS (compression-algo-priority), each way. What is
# checked: the method the client reports, that compressible packets cross the wire
# smaller (the server link's byte counters), that incompressible ones and those of at
# most no-compress-limit go uncompressed (the client's per-packet trace), and that
# without compression = true, or with a client that offers nothing, nothing is.
. "$(dirname "$0")/lib.sh"
it_init
require_ctl

# link_bytes: "RX TX" bytes of the server's link to client namespace 1.
link_bytes()
{
	local d=/sys/class/net/s1/statistics
	ip netns exec "$NS_SRV" sh -c "echo \$(cat $d/rx_bytes) \$(cat $d/tx_bytes)"
}

# zero_pings NAME SERVER COUNT SIZE: COUNT pings of SIZE zero bytes through the tunnel
# from client namespace 1; prints the bytes the server's link received and sent.
zero_pings()
{
	local before after out
	before=$(link_bytes)
	out=$(ping_through "$NS_C1" "$2" "$3" -s "$4" -p 00) || fail "$1: pings failed: $out"
	after=$(link_bytes)
	awk -v b="$before" -v a="$after" 'BEGIN { split(b, x); split(a, y); print y[1] - x[1], y[2] - x[2] }'
}

# reload_server: SIGHUP, and waits (bounded) until the server says it reloaded.
reload_server()
{
	local n i
	n=$(grep -c 'configuration reloaded' "$SERVER_LOG")
	kill -HUP "$SERVER_PID"
	for i in $(seq 1 50); do
		[ "$(grep -c 'configuration reloaded' "$SERVER_LOG")" -gt "$n" ] && return 0
		sleep 0.1
	done
	fail "the server did not reload its configuration"
}

# trace_count NAME REGEX: lines of the client's packet trace (-vv) that match.
trace_count() { grep -cE "$2" "${CLIENT_LOG[$1]}"; }

setup_server "compression = true
no-compress-limit = 256"

# 1. CSTP: oc-lz4, the server's first choice by default.
start_client lz4 "$NS_C1" alice alice-pw -v -v
vpn_ip=$(wait_tunnel lz4 15) || fail "no tunnel over CSTP"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server side for $vpn_ip"
grep -q "with SSL + LZ4 connected" "${CLIENT_LOG[lz4]}" || {
	grep "Configured as" "${CLIENT_LOG[lz4]}"
	fail "the client reports no LZ4 on CSTP"
}
ctl --json show user alice | jq -e '.[0]["CSTP compression"] == "oc-lz4"' >/dev/null ||
	fail "sluicectl show user does not show CSTP compression oc-lz4"

# 20 echo requests and replies of 1328 bytes each way: 53 KB of packets.
read -r rx tx <<<"$(zero_pings lz4 "$srv_ip" 20 1300)"
log "20 pings of 1300 zero bytes, LZ4: server link received $rx bytes, sent $tx"
[ "$tx" -lt 14000 ] || fail "the server sent $tx bytes for 26 KB of compressible packets"
[ "$rx" -lt 14000 ] || fail "the server received $rx bytes for 26 KB of compressible packets"
n=$(trace_count lz4 'Received LZ4 compressed data packet of 1328 bytes')
[ "$n" -ge 20 ] || fail "the client decompressed $n LZ4 packets of 1328 bytes, not 20"

# At most no-compress-limit (256): sent as they are, although they would compress.
before=$(trace_count lz4 'Received uncompressed data packet of 228 bytes')
ping_through "$NS_C1" "$srv_ip" 5 -s 200 -p 00 >/dev/null || fail "small pings failed"
n=$(($(trace_count lz4 'Received uncompressed data packet of 228 bytes') - before))
[ "$n" -ge 5 ] || fail "$n of 5 packets of 228 bytes came uncompressed"
[ "$(trace_count lz4 'LZ4 compressed data packet of 228 bytes')" = 0 ] ||
	fail "a packet under no-compress-limit was compressed"

# Incompressible: iperf3's random payload from the server side; LZ4 cannot shrink it,
# so every full-size packet goes as it is.
IPERF_SECONDS=1 iperf_run "$NS_C1" "$srv_ip" -R >/dev/null || fail "iperf3 through the tunnel failed"
big=$(grep -cE 'Received uncompressed data packet of 1[0-9]{3} bytes' "${CLIENT_LOG[lz4]}")
[ "$big" -ge 50 ] || fail "only $big full-size random packets came uncompressed"
# What is sent compressed always shrank (iperf3's JSON on its control connection does).
awk '/Received LZ4 compressed data packet of/ { n = $7; w = $10; sub(/\)/, "", w);
	if (w + 0 >= n + 0) { print; bad = 1 } } END { exit bad }' "${CLIENT_LOG[lz4]}" ||
	fail "a packet was sent compressed although it did not shrink"
log "LZ4 over CSTP: $big random full-size packets uncompressed, zeros compressed"
stop_client lz4

# 2. DTLS with LZS first (compression-algo-priority), both channels.
CLIENT_DTLS=yes
write_config "compression = true
compression-algo-priority = lzs:100"
reload_server
start_client lzs "$NS_C1" alice alice-pw -v -v
wait_dtls lzs 15 >/dev/null || fail "no DTLS session"
vpn_ip=$(wait_tunnel lzs 15) || fail "no tunnel over DTLS"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server side for $vpn_ip"
grep -q "DTLS connection compression using LZS" "${CLIENT_LOG[lzs]}" ||
	fail "the client reports no LZS on DTLS"
grep -q "with SSL + LZS" "${CLIENT_LOG[lzs]}" || fail "the client reports no LZS on CSTP"
before=$(udp_counters)
read -r rx tx <<<"$(zero_pings lzs "$srv_ip" 20 1300)"
expect_udp "$before" "$(udp_counters)" 20 "server, LZS pings"
log "20 pings of 1300 zero bytes, LZS over DTLS: server link received $rx bytes, sent $tx"
[ "$tx" -lt 14000 ] || fail "the server sent $tx bytes for 26 KB of compressible packets"
[ "$rx" -lt 14000 ] || fail "the server received $rx bytes for 26 KB of compressible packets"
n=$(trace_count lzs 'Received LZS compressed data packet of 1328 bytes')
[ "$n" -ge 20 ] || fail "the client decompressed $n LZS packets of 1328 bytes, not 20"
ctl --json show user alice | jq -e '.[0]["DTLS compression"] == "lzs"' >/dev/null ||
	fail "sluicectl show user does not show DTLS compression lzs"
stop_client lzs

# 3. A client that offers nothing gets nothing, whatever the server allows.
start_client off "$NS_C1" alice alice-pw -v -v --compression=off
vpn_ip=$(wait_tunnel off 15) || fail "no tunnel without compression"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server side for $vpn_ip"
read -r rx tx <<<"$(zero_pings off "$srv_ip" 10 1300)"
[ "$tx" -gt 14000 ] || fail "only $tx bytes sent for 10 uncompressed pings of 1328 bytes"
[ "$(trace_count off 'compressed data packet of')" = "$(trace_count off 'uncompressed data packet of')" ] ||
	fail "packets were compressed for a client that offered no compression"
stop_client off

# 4. compression off (the default): the client's offer is declined.
write_config ""
reload_server
start_client dflt "$NS_C1" alice alice-pw -v -v
wait_tunnel dflt 15 >/dev/null || fail "no tunnel with compression off"
grep -q "with SSL connected" "${CLIENT_LOG[dflt]}" || fail "compression is used although off"
grep -q "Content-Encoding" "${CLIENT_LOG[dflt]}" && fail "the server answered a Content-Encoding"
stop_client dflt
pass
