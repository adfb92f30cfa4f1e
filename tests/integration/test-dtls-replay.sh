#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# A captured DTLS ClientHello of a live session, replayed from another address, must
# not take the session over or break it: the original client keeps pinging over DTLS
# (its UDP keeps flowing) and neither re-handshakes DTLS nor reconnects.
. "$(dirname "$0")/lib.sh"
it_init
require_cmd nft python3
CLIENT_DTLS=yes
setup_server
hello=$WORK/client-hello.bin

# Captures, on the server's veth to client 1, the first UDP datagram to the server's
# port that is a DTLS handshake record holding a ClientHello (content type 22, handshake
# type 1; protocol.md 5.2). Bounded to 20 s.
cat >"$WORK/capture.py" <<'PY'
import socket, struct, sys, time
port, out, ifname, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind((ifname, 0))
s.settimeout(0.5)
open(ready, "w").close()
end = time.monotonic() + 20
while time.monotonic() < end:
    try:
        ip = s.recv(65536)
    except socket.timeout:
        continue
    if len(ip) < 20 or ip[9] != 17:
        continue
    udp = ip[(ip[0] & 15) * 4:]
    if len(udp) < 8 or struct.unpack("!H", udp[2:4])[0] != port:
        continue
    rec = udp[8:]
    if len(rec) >= 60 and rec[0] == 22 and rec[13] == 1:
        with open(out, "wb") as f:
            f.write(rec)
        sys.exit(0)
sys.exit(1)
PY
ip netns exec "$NS_SRV" timeout 25 python3 "$WORK/capture.py" "$PORT" "$hello" s1 \
	"$WORK/capture.ready" &
cap_pid=$!
OWN_PIDS+=("$cap_pid")
for _ in $(seq 1 50); do
	[ -e "$WORK/capture.ready" ] && break
	sleep 0.1
done
[ -e "$WORK/capture.ready" ] || fail "the capture did not start"

start_client c1 "$NS_C1" alice alice-pw
suite=$(wait_dtls c1 15) || fail "the client established no DTLS session"
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server-side tun device with peer $vpn_ip"
log "tunnel up over DTLS $suite: client $vpn_ip, server side $srv_ip"
wait "$cap_pid" || fail "no ClientHello captured"
log "captured a ClientHello of $(stat -c %s "$hello") bytes"

udp_peer_watch $CLI_IP1
udp_peer_watch $CLI_IP2
# The replayer in client namespace 2 sends to the very address client 1 uses.
ip -n "$NS_C2" route add $SRV_IP1/32 dev eth0 || fail "cannot route $SRV_IP1 from $NS_C2"

pings=30
before=$(udp_peer_packets $CLI_IP1)
ping_through "$NS_C1" "$srv_ip" $pings >"$WORK/ping.out" &
ping_pid=$!
OWN_PIDS+=("$ping_pid")
# Ten replays, from a new source port each, over five seconds: more than one of them
# arrives after any rate limit on ClientHellos of one session has expired.
cat >"$WORK/replay.py" <<'PY'
import socket, sys, time
data = open(sys.argv[1], "rb").read()
for _ in range(10):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, (sys.argv[2], int(sys.argv[3])))
    time.sleep(0.5)
PY
ip netns exec "$NS_C2" timeout 15 python3 "$WORK/replay.py" "$hello" $SRV_IP1 "$PORT" ||
	fail "the replay failed"
wait "$ping_pid" || fail "ping during the replay failed: $(cat "$WORK/ping.out")"
out=$(cat "$WORK/ping.out")
log "ping during the replay: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
grep -q ' 0% packet loss' <<<"$out" || fail "packets lost during the replay: $out"
expect_udp "$before" "$(udp_peer_packets $CLI_IP1)" $pings "client 1, during the replay"
log "UDP datagrams between the server and the replayer: $(udp_peer_packets $CLI_IP2)"

pings=10
before=$(udp_peer_packets $CLI_IP1)
out=$(ping_through "$NS_C1" "$srv_ip" $pings) || fail "ping after the replay failed: $out"
log "after the replay: $(tail -n 2 <<<"$out" | head -n 1)"
expect_udp "$before" "$(udp_peer_packets $CLI_IP1)" $pings "client 1, after the replay"

[ "$(dtls_count c1)" = 1 ] || fail "the client had to re-establish DTLS"
[ "$(client_log_count c1 'CSTP connected')" = 1 ] || fail "the client reconnected over TLS"
now=$(client_addr c1)
[ "$now" = "$vpn_ip" ] || fail "the client's VPN address changed from $vpn_ip to '$now'"
pass
