#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the shape of the per-session packet policy in the kernel (filter.h).
# - sessions with the same policy share one chain: each has one element in the map
#   "sessions" (device name -> goto chain), and a chain goes with its last session;
# - a user with another policy (restrict-user-to-routes) gets a chain of its own;
# - an element that outlived its session is replaced at the next set-up for that
#   device name, and the session works;
# - a device named like the server's devices but without an element passes nothing:
#   a UDP packet written into it is dropped and counted, and the same packet passes
#   once the device has an element.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd nft jq python3
it_init
make_certs
add_user alice alice-pw
add_user bob bob-pw
add_user rita rita-pw
mkdir -p "$WORK/users"
echo "restrict-user-to-routes = true" >"$WORK/users/rita"
write_config "config-per-user = $WORK/users"
start_server
T="inet sluice_vpns"

nftj() { ip netns exec "$NS_SRV" nft -j list "$@"; }
# elements: "device chain" lines of the map, sorted.
elements()
{
	nftj map $T sessions | jq -r '.nftables[] | select(.map) | .map.elem // [] | .[]
		| "\(.[0]) \(.[1].goto.target)"' | sort
}
chains() { nftj table $T | jq -r '.nftables[] | select(.chain) | .chain.name' | grep '^p_' | sort; }
device_of() { grep -E "session start: .*user=$1 " "$SERVER_LOG" | tail -n 1 | sed -n 's/.* device=\([^ ]*\).*/\1/p'; }

start_client a "$NS_C1" alice alice-pw
ip_a=$(wait_tunnel a 15) || fail "alice: no tunnel"
start_client b "$NS_C2" bob bob-pw
ip_b=$(wait_tunnel b 15) || fail "bob: no tunnel"
session_worker bob >/dev/null || fail "no session start for bob"
dev_a=$(device_of alice)
dev_b=$(device_of bob)
[ "$(chains | wc -l)" = 1 ] || fail "alice and bob do not share one chain: $(chains)"
p=$(chains)
[ "$(elements)" = "$(printf '%s %s\n%s %s' "$dev_a" "$p" "$dev_b" "$p" | sort)" ] ||
	fail "elements: $(elements)"
log "alice ($dev_a) and bob ($dev_b) share chain $p"

stop_client b
start_client r "$NS_C2" rita rita-pw
ip_r=$(wait_tunnel r 15) || fail "rita: no tunnel"
session_worker rita >/dev/null || fail "no session start for rita"
dev_r=$(device_of rita)
for i in $(seq 1 30); do [ "$(chains | wc -l)" = 2 ] && break; sleep 0.1; done
[ "$(chains | wc -l)" = 2 ] || fail "chains with rita: $(chains)"
p_r=$(elements | awk -v d="$dev_r" '$1 == d { print $2 }')
[ -n "$p_r" ] && [ "$p_r" != "$p" ] || fail "rita's element: $(elements)"
nftj chain $T "$p_r" | jq -e '[.nftables[] | select(.rule)] | length > 0' >/dev/null ||
	fail "rita's chain $p_r is empty"
ip netns exec "$NS_SRV" nft list chain $T "$p_r" | grep -q 'ip daddr != ' ||
	fail "rita's chain has no route rule: $(ip netns exec "$NS_SRV" nft list chain $T "$p_r")"
out=$(ping_through "$NS_C2" "$(server_tun_ip "$ip_r")" 2) || fail "rita cannot ping: $out"
log "rita ($dev_r) has chain $p_r with her routes"

stop_client a
for i in $(seq 1 30); do [ "$(chains)" = "$p_r" ] && break; sleep 0.1; done
[ "$(chains)" = "$p_r" ] || fail "alice's chain outlived its last session: $(chains)"
[ "$(elements)" = "$dev_r $p_r" ] || fail "elements after alice: $(elements)"
stop_client r
for i in $(seq 1 30); do [ -z "$(chains)" ] && break; sleep 0.1; done
[ -z "$(chains)$(elements)" ] || fail "left after the last session: $(chains) $(elements)"
log "each chain went with its last session"

# An element left behind for the name the next device gets (the kernel gives the
# lowest free number, once the ended sessions' devices are deleted).
for i in $(seq 1 30); do ip -n "$NS_SRV" -o link show | grep -q ': vpns' || break; sleep 0.1; done
ip -n "$NS_SRV" -o link show | grep -q ': vpns' && fail "devices left: $(ip -n "$NS_SRV" -o link show)"
ip netns exec "$NS_SRV" nft -f - <<-EOF2 || fail "cannot add a stale element"
	add chain $T stale
	add rule $T stale counter drop
	add element $T sessions { "vpns0" : goto stale }
EOF2
start_client a "$NS_C1" alice alice-pw
ip_a=$(wait_tunnel a 15) || fail "alice: no tunnel after the stale element"
[ "$(device_of alice)" = vpns0 ] || fail "alice got $(device_of alice), not vpns0"
server_log_has "replaced a stale packet policy of vpns0" 5 || fail "no log line for the stale element"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip_a")" 2) || fail "alice cannot ping: $out"
elements | grep -q "^vpns0 p_" || fail "vpns0 still goes to the stale chain: $(elements)"
log "a stale element for vpns0 was replaced; alice's session works"

# A device of the server's name without an element: a UDP packet from the address its
# route leads to is dropped.
SRV_IP=$(ip -n "$NS_SRV" -4 -o addr show dev s1 | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
check_addr "$SRV_IP"
ip netns exec "$NS_SRV" timeout 60 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9998))
while True:
    data, peer = s.recvfrom(100)
    print(peer[0], data.decode(errors="replace"), flush=True)
' >"$WORK/heard" 2>&1 &
OWN_PIDS+=("$!")
wait_output 5 ip netns exec "$NS_SRV" ss -Hlun "sport = :9998" || fail "no UDP listener"
# decoy TAG: makes vpns77 (198.18.77.1, peer 198.18.77.2) and writes one UDP packet
# from its peer to the server's address.
decoy()
{
	ip netns exec "$NS_SRV" timeout 20 python3 - "$SRV_IP" "$1" <<-'PY'
		import fcntl, os, socket, struct, subprocess, sys, time
		dst, tag = sys.argv[1], sys.argv[2].encode()
		fd = os.open("/dev/net/tun", os.O_RDWR)
		fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"vpns77", 0x0001 | 0x1000))
		for cmd in (["ip", "addr", "add", "198.18.77.1", "peer", "198.18.77.2", "dev", "vpns77"],
		            ["ip", "link", "set", "vpns77", "up"]):
		    subprocess.run(cmd, check=True)
		src = socket.inet_aton("198.18.77.2")
		udp = struct.pack("!HHHH", 40000, 9998, 8 + len(tag), 0) + tag
		hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src,
		                  socket.inet_aton(dst))
		s = sum(struct.unpack("!10H", hdr))
		s = (s & 0xffff) + (s >> 16)
		s = (s & 0xffff) + (s >> 16)
		hdr = hdr[:10] + struct.pack("!H", ~s & 0xffff) + hdr[12:]
		time.sleep(0.3)
		for _ in range(3):
		    os.write(fd, hdr + udp)
		    time.sleep(0.1)
		time.sleep(0.5)
	PY
}
dropped() { nftj chain $T prerouting | jq '[.nftables[] | select(.rule) | .rule.expr[] | .counter.packets // empty] | add'; }
before=$(dropped)
decoy blocked || fail "the decoy device could not be made"
sleep 0.5
grep -q blocked "$WORK/heard" && fail "a device without an element passed a packet"
[ "$(dropped)" -ge $((before + 3)) ] || fail "the catch-all rule counted $before -> $(dropped)"
ip netns exec "$NS_SRV" nft add element $T sessions "{ \"vpns77\" : goto $(elements | awk '{ print $2; exit }') }" ||
	fail "cannot add vpns77's element"
decoy passed || fail "the decoy device could not be made again"
wait_output 5 grep passed "$WORK/heard" || fail "the packet did not pass with an element either"
stop_client a
pass "sessions share their policy's chain, stale elements are replaced, unknown devices pass nothing"
