#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: socket activation. A small launcher does what systemd does for
# sluiced.socket: it binds TCP and UDP port 443, passes them as fds 3 and 4 with
# LISTEN_FDS and LISTEN_PID, and execs sluiced, which must serve TLS and DTLS through
# them (binding the port itself would fail: the passed sockets hold it).
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd python3
it_init
make_certs
add_user alice alice-pw
write_config

SERVER_LOG=$WORK/server.log
ip netns exec "$NS_SRV" python3 - "$(server_bin)" -f -c "$SERVER_CONF" <<'PY' >>"$SERVER_LOG" 2>&1 &
import os, socket, sys
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", 443))
tcp.listen(64)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", 443))
os.dup2(tcp.fileno(), 3)
os.dup2(udp.fileno(), 4)
# dup2 onto itself keeps close-on-exec: say explicitly that 3 and 4 are passed.
os.set_inheritable(3, True)
os.set_inheritable(4, True)
os.environ["LISTEN_FDS"] = "2"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
PY
SERVER_PID=$!
for i in $(seq 1 100); do
	kill -0 "$SERVER_PID" 2>/dev/null || fail "sluiced exited during start-up"
	grep -q 'sluiced ready' "$SERVER_LOG" && break
	sleep 0.1
done
server_log_has 'socket activation: TCP port 443 and UDP' 1 ||
	fail "sluiced did not take the passed sockets"

CLIENT_DTLS=yes
start_client c1 "$NS_C1" alice alice-pw
ip=$(wait_tunnel c1 15) || fail "no tunnel through the passed TCP socket"
suite=$(wait_dtls c1 15) || fail "no DTLS through the passed UDP socket"
log "tunnel $ip, DTLS $suite"
srv=$(server_tun_ip "$ip")
ip netns exec "$NS_C1" ping -n -q -c 5 -i 0.2 -W 2 "$srv" >/dev/null || fail "no traffic"
pass
