#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: restrict-user-to-ports (ocserv's syntax), enforced by the worker and by
# the kernel on the session's TUN device, per user.
#  - pat may reach only tcp(8080) and icmp(): a ping to the server and a TCP connection
#    to 8080 pass, one to 7070 is dropped (by the worker, which counts it, with the same
#    rules in the session's nftables chain behind it);
#  - dan may reach everything but !(tcp(9090)): 7070 passes, 9090 is dropped;
#  - bob, without the key, reaches all three;
#  - the connect script gets OCSERV_ALLOW_PORTS / OCSERV_DENY_PORTS as ocserv gives them.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd nft python3 jq
it_init
require_ctl

mkdir -p "$WORK/users"
printf 'restrict-user-to-ports = "tcp(8080), icmp()"\nstats-report-time = 1\n' >"$WORK/users/pat"
echo 'restrict-user-to-ports = "!(tcp(9090))"' >"$WORK/users/dan"
SCRIPT=$WORK/connect.sh
printf '#!/bin/sh\nenv >"%s/connect-$USERNAME.env"\n' "$WORK" >"$SCRIPT"
chmod 755 "$SCRIPT"
make_certs
add_user pat pat-pw
add_user dan dan-pw
add_user bob bob-pw
write_config "config-per-user = $WORK/users
connect-script = $SCRIPT"
start_server

# Listeners on the server for the three ports (bounded: 120 s).
ip netns exec "$NS_SRV" timeout 120 python3 - <<'PY' &
import selectors, socket
sel = selectors.DefaultSelector()
for port in (7070, 8080, 9090):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        c.close()
PY
OWN_PIDS+=($!)
for i in $(seq 1 50); do
	ip netns exec "$NS_SRV" ss -Hltn "sport = :9090" | grep -q LISTEN && break
	sleep 0.1
done

# reach NS IP PORT: 0 when a TCP connection to IP:PORT is made within 3 s.
reach() { ip netns exec "$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }
expect() # NAME NS IP PORT yes|no
{
	if reach "$2" "$3" "$4"; then
		[ "$5" = yes ] || fail "$1 reached port $4"
	else
		[ "$5" = no ] || fail "$1 did not reach port $4"
	fi
}
envvar() { sed -n "s/^$2=//p" "$WORK/connect-$1.env" 2>/dev/null; }

start_client pat "$NS_C1" pat pat-pw
ip=$(wait_tunnel pat 15) || fail "no tunnel for pat"
srv=$(server_tun_ip "$ip") || fail "no server address for pat"
ping_through "$NS_C1" "$srv" 2 >/dev/null || fail "pat's ping (icmp() allowed) failed"
expect pat "$NS_C1" "$srv" 8080 yes
expect pat "$NS_C1" "$srv" 7070 no
# Both halves of the policy: the worker drops and counts (it sees the packet first), and
# the kernel's chain for the session has the same rules behind it.
ip netns exec "$NS_SRV" nft list table inet sluice_vpns >"$WORK/nft.txt" 2>&1
grep -q 'tcp dport 8080 accept' "$WORK/nft.txt" && grep -q 'meta l4proto icmp accept' "$WORK/nft.txt" ||
	fail "no kernel rules for pat's ports: $(cat "$WORK/nft.txt")"
for i in $(seq 1 30); do
	n=$(ctl --json show user pat | jq '.[0]."Dropped outside routes"')
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.2
done
[ "${n:-0}" -ge 1 ] || fail "the worker counted no dropped packet for pat: $(ctl --json show user pat)"
[ "$(envvar pat OCSERV_ALLOW_PORTS)" = "tcp 8080 icmp all" ] ||
	fail "OCSERV_ALLOW_PORTS of pat: '$(envvar pat OCSERV_ALLOW_PORTS)'"
[ "$(envvar pat OCSERV_RESTRICT_TO_ROUTES)" = 1 ] || fail "restrict-user-to-ports does not imply restrict-user-to-routes"
stop_client pat
log "pat: icmp and tcp 8080 pass, tcp 7070 is dropped"

start_client dan "$NS_C2" dan dan-pw
ip=$(wait_tunnel dan 15) || fail "no tunnel for dan"
srv=$(server_tun_ip "$ip") || fail "no server address for dan"
expect dan "$NS_C2" "$srv" 7070 yes
expect dan "$NS_C2" "$srv" 9090 no
[ "$(envvar dan OCSERV_DENY_PORTS)" = "tcp 9090" ] ||
	fail "OCSERV_DENY_PORTS of dan: '$(envvar dan OCSERV_DENY_PORTS)'"
stop_client dan
log "dan: tcp 7070 passes, tcp 9090 is dropped"

start_client bob "$NS_C1" bob bob-pw
ip=$(wait_tunnel bob 15) || fail "no tunnel for bob"
srv=$(server_tun_ip "$ip") || fail "no server address for bob"
for p in 7070 8080 9090; do
	expect bob "$NS_C1" "$srv" $p yes
done
grep -q "OCSERV_ALLOW_PORTS\|OCSERV_DENY_PORTS" "$WORK/connect-bob.env" && fail "bob's script got a ports variable"
pass "restrict-user-to-ports: allowed and denied lists in the kernel, and ocserv's variables"
