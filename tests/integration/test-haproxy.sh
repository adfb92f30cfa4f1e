#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: behind a real HAProxy with the PROXY protocol (listen-proxy-proto), and
# scaled out to two instances. HAProxy runs contrib/haproxy/haproxy.cfg as shipped, in
# the server namespace: port 443 to instance a (127.0.0.1:4431) and b (127.0.0.1:4432)
# with send-proxy-v2, round robin for new clients and source affinity, plus a second
# frontend (port 8443, send-proxy: version 1) to instance a. The instances announce
# their own UDP ports (4441, 4442), so DTLS goes to them directly.
#  1. Each client lands on its own instance (client 2 over IPv6); both instances see
#     the clients' own addresses (sluicectl show users, the audit file, ban points of a wrong password),
#     never 127.0.0.1; DTLS comes up straight to each instance; traffic passes.
#  2. A reconnect (the same client again) lands on the same instance.
#  3. Version 1 through the second frontend gives the same.
#  4. A connection to an instance without a header, or with a malformed one, is closed
#     before any TLS, with a log line that says why; one with a LOCAL header (the
#     balancer's own) gets TLS and scores no ban points; HAProxy's health checks (a TCP
#     connect without a header) leave no line above debug.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd haproxy jq python3
CLIENT_DTLS=yes
NET6=yes
it_init
require_ctl

make_certs
add_user alice alice-pw
add_user bob bob-pw

# instance NAME TCP-PORT UDP-PORT DEVICE POOL: its configuration and its start.
declare -A INST_PID=() INST_LOG=() INST_SOCK=()
instance()
{
	local name=$1 tcp=$2 udp=$3 dev=$4 pool=$5 i
	check_addr "$pool"
	write_config "listen-host = 127.0.0.1
tcp-port = $tcp
udp-listen-host = ::
udp-port = $udp
listen-proxy-proto = true
device = $dev
ipv4-network = $pool/24
route = $pool/24
socket-file = $WORK/$name.sock
occtl-socket-file = $WORK/$name.ctl
pid-file = $WORK/$name.pid
audit-log = $WORK/$name-audit.json
max-ban-score = 1000
ban-points-wrong-password = 10
ban-points-connection = 1
auth-tries = 1"
	mv "$SERVER_CONF" "$WORK/$name.conf"
	INST_LOG[$name]=$WORK/$name.log
	INST_SOCK[$name]=$WORK/$name.ctl
	ip netns exec "$NS_SRV" "$(server_bin)" -f -c "$WORK/$name.conf" >>"${INST_LOG[$name]}" 2>&1 &
	INST_PID[$name]=$!
	OWN_PIDS+=("${INST_PID[$name]}")
	for i in $(seq 1 100); do
		kill -0 "${INST_PID[$name]}" 2>/dev/null || fail "instance $name exited at start-up"
		ip netns exec "$NS_SRV" ss -Hltn "sport = :$tcp" | grep -q LISTEN && return 0
		sleep 0.1
	done
	fail "instance $name does not listen on port $tcp"
}
ictl() { local n=$1; shift; ip netns exec "$NS_SRV" timeout 30 "$CTL" -s "${INST_SOCK[$n]}" "$@"; }
on_cleanup 'for p in "${INST_PID[@]}"; do for k in $(descendants "$p"); do kill -KILL "$k" 2>/dev/null; done; done'

instance a 4431 4441 vpna 198.19.0.0
instance b 4432 4442 vpnb 198.19.1.0
SERVER_LOG=${INST_LOG[a]}

# The shipped configuration, with a version 1 frontend added for step 3.
cp "$top_srcdir/contrib/haproxy/haproxy.cfg" "$WORK/haproxy.cfg" || fail "no contrib/haproxy/haproxy.cfg"
cat >>"$WORK/haproxy.cfg" <<'CFG'

frontend vpn_v1
	bind :8443
	default_backend sluice_v1

backend sluice_v1
	server a 127.0.0.1:4431 send-proxy
CFG
ip netns exec "$NS_SRV" haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 &
OWN_PIDS+=($!)
for i in $(seq 1 50); do
	ip netns exec "$NS_SRV" ss -Hltn "sport = :443" | grep -q LISTEN && break
	sleep 0.1
done
ip netns exec "$NS_SRV" ss -Hltn "sport = :443" | grep -q LISTEN || fail "haproxy does not listen: $(cat "$WORK/haproxy.out")"

# users_of INSTANCE: "user ip" lines of its sessions.
users_of() { ictl "$1" --json show users | jq -r '.[] | "\(.Username) \(."Remote IP")"' | sort; }
instance_of() # USER: the instance that holds its session
{
	local n
	for n in a b; do
		users_of "$n" | grep -q "^$1 " && echo "$n"
	done
}

# 1. Two clients, one per instance, DTLS straight to each.
start_client c1 "$NS_C1" alice alice-pw
vpn1=$(wait_tunnel c1) || fail "client 1 got no tunnel through haproxy"
CLIENT_URL="https://[$SRV6_IP2]/" start_client c2 "$NS_C2" bob bob-pw
vpn2=$(wait_tunnel c2) || fail "client 2 got no tunnel through haproxy"
inst1=$(instance_of alice)
inst2=$(instance_of bob)
log "alice ($CLI_IP1) on instance '$inst1' with $vpn1, bob ($CLI6_IP2) on '$inst2' with $vpn2"
[ -n "$inst1" ] && [ -n "$inst2" ] || fail "a session is on no instance"
[ "$inst1" != "$inst2" ] || fail "both clients landed on instance $inst1"
users_of "$inst1" | grep -qx "alice $CLI_IP1" || fail "instance $inst1 does not show alice at $CLI_IP1: $(users_of "$inst1")"
users_of "$inst2" | grep -qx "bob $CLI6_IP2" || fail "instance $inst2 does not show bob at $CLI6_IP2: $(users_of "$inst2")"
for n in a b; do
	if grep -q '127\.0\.0\.1' "$WORK/$n-audit.json"; then
		fail "instance $n's audit file names the balancer's address: $(grep 127.0.0.1 "$WORK/$n-audit.json" | head -1)"
	fi
done
grep -q "\"$CLI_IP1\"" "$WORK/$inst1-audit.json" || fail "instance $inst1's audit file lacks $CLI_IP1"
cs1=$(wait_dtls c1) || fail "client 1: no DTLS to its instance"
cs2=$(wait_dtls c2) || fail "client 2: no DTLS to its instance"
log "DTLS: client 1 $cs1, client 2 $cs2"
ip netns exec "$NS_SRV" ss -Hun state established "( sport = :4441 or sport = :4442 )" >"$WORK/udp.txt"
grep -q "$CLI_IP1" "$WORK/udp.txt" || fail "no UDP socket of an instance is connected to client 1: $(cat "$WORK/udp.txt")"
grep -q "$CLI6_IP2" "$WORK/udp.txt" || fail "no UDP socket of an instance is connected to client 2 (IPv6): $(cat "$WORK/udp.txt")"
ping_through "$NS_C1" "$(server_tun_ip "$vpn1")" 3 >/dev/null || fail "no traffic through client 1's tunnel"
ping_through "$NS_C2" "$(server_tun_ip "$vpn2")" 3 >/dev/null || fail "no traffic through client 2's tunnel"

# 2. The same client again: its address sticks to its instance.
stop_client c1
start_client c1b "$NS_C1" alice alice-pw
wait_tunnel c1b >/dev/null || fail "client 1 got no tunnel on its reconnect"
again=$(instance_of alice)
[ "$again" = "$inst1" ] || fail "client 1's reconnect landed on '$again', not on '$inst1'"
log "reconnect of client 1: instance $again again"
stop_client c1b

# Ban points go to the client's own address.
if ip netns exec "$NS_C1" timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin \
	--user alice --servercert "$PIN" "https://$SRV_IP1/" <<<"wrong" >/dev/null 2>&1; then
	fail "a wrong password logged in"
fi
points=$(ictl "$inst1" --json show ip ban points)
jq -e --arg ip "$CLI_IP1" '[.[] | select(.IP == $ip)] | length == 1' <<<"$points" >/dev/null ||
	fail "instance $inst1 did not score the client's address: $points"
jq -e '[.[] | select(.IP == "127.0.0.1")] | length == 0' <<<"$points" >/dev/null ||
	fail "instance $inst1 scored the balancer's address: $points"

# 3. Version 1 through the second frontend (instance a).
CLIENT_URL="https://$SRV_IP2:8443/" start_client v1 "$NS_C2" alice alice-pw --no-dtls
wait_tunnel v1 >/dev/null || fail "no tunnel through the version 1 frontend"
users_of a | grep -qx "alice $CLI_IP2" || fail "instance a does not show alice at $CLI_IP2 after version 1: $(users_of a)"
stop_client v1
log "version 1 header: instance a sees $CLI_IP2"

# 4. Without a header, or with a malformed one: closed before TLS, said once.
probe() # BYTES: sent to instance a directly; prints what came back (hex), if anything
{
	ip netns exec "$NS_SRV" python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", 4431), timeout=8)
s.sendall(bytes.fromhex(sys.argv[1]))
try:
    data = s.recv(4096)
except socket.timeout:
    data = b"TIMEOUT"
print(data.hex() if data != b"TIMEOUT" else "timeout")
PY
}
hello=$(printf '\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00' | od -An -tx1 | tr -d ' \n')
out=$(probe "$hello")
[ -z "$out" ] || fail "a ClientHello without a PROXY header got an answer: $out"
server_log_has 'closed: no PROXY protocol signature' 5 || fail "no log line for a connection without a header"
sleep 1.1 # one such line a second
out=$(probe "$(printf 'PROXY TCP4 198.18.0.9 198.18.0.1 01 443\r\n' | od -An -tx1 | tr -d ' \n')$hello")
[ -z "$out" ] || fail "a malformed version 1 header got an answer: $out"
server_log_has 'invalid port' 5 || fail "no log line for a malformed header"
# The balancer's own connection (a version 2 LOCAL header) is served under the socket's
# addresses and never scores: a ban of the balancer would shut every client out.
ip netns exec "$NS_SRV" python3 - <<'PY' || fail "a connection with a LOCAL header got no TLS"
import socket, ssl
s = socket.create_connection(("127.0.0.1", 4431), timeout=8)
s.sendall(bytes.fromhex("0d0a0d0a000d0a515549540a20000000"))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.wrap_socket(s).close()
PY
points=$(ictl a --json show ip ban points)
jq -e '[.[] | select(.IP == "127.0.0.1")] | length == 0' <<<"$points" >/dev/null ||
	fail "the balancer's own connections scored ban points: $points"
for n in a b; do
	if grep -E 'notice|warn|err' "${INST_LOG[$n]}" | grep -q 'closed before its PROXY header'; then
		fail "instance $n logs health checks above debug"
	fi
done
pass "PROXY v2 and v1 through haproxy: clients' own addresses, affinity ($inst1/$inst2), DTLS direct ($cs1)"
