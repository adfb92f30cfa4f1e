#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# With a DTLS session up, 20,000 garbage datagrams of random sizes (random bytes, bogus
# DTLS records, ClientHellos with unknown or malformed session ids) from another
# address hit the UDP port within a few seconds. The live session keeps pinging over
# DTLS, and afterwards the server is alive and takes a new login with DTLS.
. "$(dirname "$0")/lib.sh"
it_init
require_cmd nft python3
CLIENT_DTLS=yes
setup_server

start_client c1 "$NS_C1" alice alice-pw
suite=$(wait_dtls c1 15) || fail "the client established no DTLS session"
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server-side tun device with peer $vpn_ip"
log "tunnel up over DTLS $suite: client $vpn_ip, server side $srv_ip"
udp_peer_watch $CLI_IP1
udp_peer_watch $CLI_IP2
# The flood from client namespace 2 goes to the very address client 1 uses.
ip -n "$NS_C2" route add $SRV_IP1/32 dev eth0 || fail "cannot route $SRV_IP1 from $NS_C2"

# COUNT datagrams in batches of 100, 25 ms apart (about 5 s), from 16 source ports.
cat >"$WORK/flood.py" <<'PY'
import os, random, socket, struct, sys, time
dst, count = (sys.argv[1], int(sys.argv[2])), int(sys.argv[3])
rnd = random.Random(int(sys.argv[4]))
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(16)]

def record(ctype, body):
    version = rnd.choice([b"\xfe\xfd", b"\xfe\xff", b"\x01\x00", os.urandom(2)])
    epoch_seq = struct.pack("!H", rnd.choice([0, 1, rnd.getrandbits(16)])) + os.urandom(6)
    length = len(body) if rnd.random() < 0.7 else rnd.getrandbits(16)
    return bytes([ctype]) + version + epoch_seq + struct.pack("!H", length) + body

def client_hello():
    sid_len = rnd.choice([32, 32, 0, 1, 33, 255, rnd.getrandbits(8)])
    body = (b"\x01" + os.urandom(3) + os.urandom(2) + b"\x00\x00\x00" + os.urandom(3)
            + b"\xfe\xfd" + os.urandom(32) + bytes([sid_len]) + os.urandom(sid_len)
            + os.urandom(rnd.randrange(0, 200)))
    return record(22, body[: rnd.randrange(1, len(body) + 1)])

sent = 0
while sent < count:
    for _ in range(min(100, count - sent)):
        kind = rnd.random()
        if kind < 0.4:
            data = os.urandom(rnd.randrange(1, 1473))
        elif kind < 0.7:
            data = record(rnd.choice([20, 21, 22, 23, rnd.getrandbits(8)]),
                          os.urandom(rnd.randrange(0, 1460)))
        else:
            data = client_hello()
        rnd.choice(socks).sendto(data, dst)
        sent += 1
    time.sleep(0.025)
print(sent)
PY

flood=20000
pings=30
before=$(udp_peer_packets $CLI_IP1)
ping_through "$NS_C1" "$srv_ip" $pings >"$WORK/ping.out" &
ping_pid=$!
OWN_PIDS+=("$ping_pid")
start=$(date +%s%N)
sent=$(ip netns exec "$NS_C2" timeout 20 python3 "$WORK/flood.py" $SRV_IP1 "$PORT" $flood $$) ||
	fail "the flood did not finish"
log "sent $sent garbage datagrams (seed $$) in $((($(date +%s%N) - start) / 1000000)) ms"
wait "$ping_pid"
out=$(cat "$WORK/ping.out")
log "ping during the flood: $(tail -n 2 <<<"$out" | head -n 1)"
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
# One lost echo in 30 is tolerated: the flood shares the CPUs with the tunnel.
[ "${received:-0}" -ge $((pings - 1)) ] || fail "pings lost during the flood: $out"
expect_udp "$before" "$(udp_peer_packets $CLI_IP1)" $((pings - 1)) "client 1, during the flood"
log "server datagrams to the flooding address: $(udp_peer_packets $CLI_IP2 | cut -d' ' -f2)"

kill -0 "$SERVER_PID" 2>/dev/null || fail "$SERVER died"
before=$(udp_peer_packets $CLI_IP1)
out=$(ping_through "$NS_C1" "$srv_ip" 10) || fail "ping after the flood failed: $out"
grep -q ' 0% packet loss' <<<"$out" || fail "packets lost after the flood: $out"
log "client 1 after the flood: $(tail -n 2 <<<"$out" | head -n 1)"
expect_udp "$before" "$(udp_peer_packets $CLI_IP1)" 10 "client 1, after the flood"
[ "$(dtls_count c1)" = 1 ] || fail "client 1 had to re-establish DTLS"
[ "$(client_log_count c1 'CSTP connected')" = 1 ] || fail "client 1 reconnected over TLS"

start_client c2 "$NS_C2" alice alice-pw
suite=$(wait_dtls c2 15) || fail "a new login after the flood got no DTLS session"
ip2=$(wait_tunnel c2 15) || fail "a new login after the flood got no tunnel"
srv2=$(server_tun_ip "$ip2") || fail "no server-side tun device with peer $ip2"
out=$(ping_through "$NS_C2" "$srv2" 5) || fail "the new client cannot ping: $out"
log "new login after the flood: $ip2 over DTLS $suite, ping fine"
pass
