#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: SNMP through a real snmpd master agent (snmp-agentx). sluiced starts
# sluice-snmp, unprivileged; snmpwalk through snmpd lists the sessions of two real
# openconnect clients with their users, addresses and byte counters that grow with
# pings; the counts match sluicectl show status; a disconnect removes its row; while
# snmpd is stopped sluiced goes on serving clients, and once snmpd is back the subagent
# has reconnected by itself; a subagent that dies is started again by main.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd snmpd snmpwalk snmpget jq
it_init
require_ctl
make_certs
add_user alice alice-pw
add_user bob bob-pw

SNMP_PORT=1161
COMMUNITY=sluicetest
AGENTX=$WORK/agentx.sock
# enterprises.32473.1 (doc/SLUICE-MIB.txt); the test names objects by number, as the
# standard MIBs that SLUICE-MIB imports are not installed on every machine.
MIB=.1.3.6.1.4.1.32473.1
SERVER_OBJ=$MIB.1.1
TABLE=$MIB.1.2.1

# snmpd as the AgentX master, in the server namespace, on its loopback only, with a
# read-only community, its own socket and no system file.
mkdir -p "$WORK/snmpd-state"
cat >"$WORK/snmpd.conf" <<-CONF
	agentAddress udp:127.0.0.1:$SNMP_PORT
	rocommunity $COMMUNITY 127.0.0.1
	master agentx
	agentXSocket $AGENTX
	agentXPerms 0666 0755
CONF
SNMPD_PID=
start_snmpd()
{
	SNMP_PERSISTENT_DIR=$WORK/snmpd-state MIBS= ip netns exec "$NS_SRV" \
		snmpd -f -C -c "$WORK/snmpd.conf" -Lf "$WORK/snmpd.log" &
	SNMPD_PID=$!
	OWN_PIDS+=("$SNMPD_PID")
	local i
	for i in $(seq 1 50); do
		[ -S "$AGENTX" ] && return 0
		kill -0 "$SNMPD_PID" 2>/dev/null || fail "snmpd exited: $(tail -5 "$WORK/snmpd.log")"
		sleep 0.1
	done
	fail "snmpd made no AgentX socket"
}
stop_snmpd()
{
	stop_pid "$SNMPD_PID"
	SNMPD_PID=
}
# snmp CMD [OPTIONS] OID
snmp()
{
	local cmd=$1 oid=${!#}
	shift
	set -- "${@:1:$#-1}"
	MIBS= ip netns exec "$NS_SRV" timeout 20 "$cmd" -v2c -c "$COMMUNITY" -t 3 -r 1 -On "$@" \
		"udp:127.0.0.1:$SNMP_PORT" "$oid"
}
# get OBJ: the value of one scalar (.0), bare.
get() { snmp snmpget -Oqv "$1.0" 2>/dev/null | tr -d '"'; }
# column N [OPTS]: "ID VALUE" per row of the session table's column N.
column()
{
	local n=$1
	shift
	snmp snmpwalk -Oq "$@" "$TABLE.$n" 2>/dev/null |
		sed -n "s/^\\$TABLE\\.$n\\.\\([0-9]*\\) \\(.*\\)\$/\\1 \\2/p" | tr -d '"'
}
# hex_ip "C6 12 00 02": dotted quad
hex_ip() { printf '%d.%d.%d.%d' $(for b in $1 $2 $3 $4; do echo "0x$b"; done); }
wait_agent()
{
	local i
	for i in $(seq 1 ${1:-20}); do
		[ "$(get "$SERVER_OBJ.1")" = 1 ] && return 0
		sleep 1
	done
	log "snmpget $SERVER_OBJ.1.0: $(snmp snmpget "$SERVER_OBJ.1.0" 2>&1)"
	return 1
}

on_cleanup '[ "$TEST_FAILED" = 1 ] && { echo "----- snmpd log -----"; tail -n 20 "$WORK/snmpd.log"; }'
start_snmpd
write_config "snmp-agentx = $AGENTX
stats-report-time = 1"
start_server
wait_agent || fail "the subagent did not register with snmpd: $(grep -i snmp "$SERVER_LOG" | tail -5)"

# Least privilege: the subagent is main's child and not root.
SUB=$(pgrep -P "$SERVER_PID" -x sluice-snmp) || fail "no sluice-snmp child of sluiced"
uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$SUB/status")
[ "$uid" = "$(id -u nobody)$(id -u nobody)$(id -u nobody)$(id -u nobody)" ] ||
	fail "sluice-snmp runs with uids $uid, not as nobody"
grep -Eq '^Seccomp:[[:space:]]+2$' "/proc/$SUB/status" || fail "sluice-snmp has no seccomp filter"
log "sluice-snmp (pid $SUB) runs as nobody, under its seccomp filter"

[ "$(get "$SERVER_OBJ.3")" = 0 ] || fail "sessions active before any client"

start_client c1 "$NS_C1" alice alice-pw
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice"
start_client c2 "$NS_C2" bob bob-pw
ip2=$(wait_tunnel c2 15) || fail "no tunnel for bob"
sleep 2.5 # the subagent's cache lives 2 s

ctl --json show users >"$WORK/users.json" || fail "sluicectl show users failed"
ctl --json show status >"$WORK/status.json" || fail "sluicectl show status failed"
column 2 >"$WORK/users.snmp"
log "table users: $(tr '\n' ';' <"$WORK/users.snmp")"
[ "$(wc -l <"$WORK/users.snmp")" = 2 ] || fail "the session table has not 2 rows"
for who in alice:$CLI_IP1:$ip1 bob:$CLI_IP2:$ip2; do
	IFS=: read -r user remote vpn <<<"$who"
	id=$(jq -r --arg u "$user" '.[] | select(.Username == $u) | .ID' "$WORK/users.json")
	[ -n "$id" ] || fail "sluicectl does not list $user"
	grep -qx "$id $user" "$WORK/users.snmp" || fail "no row $id for $user"
	got=$(column 5 -Ox | awk -v id="$id" '$1 == id { print $2, $3, $4, $5 }')
	[ "$(hex_ip $got)" = "$remote" ] || fail "$user's remote address is '$got', not $remote"
	got=$(column 6 -Ox | awk -v id="$id" '$1 == id { print $2, $3, $4, $5 }')
	[ "$(hex_ip $got)" = "$vpn" ] || fail "$user's VPN address is '$got', not $vpn"
	got=$(column 4 | awk -v id="$id" '$1 == id { print $2 }')
	[ "$got" = 1 ] || fail "$user's remote address type is '$got', not ipv4(1)"
	dev=$(jq -r --arg u "$user" '.[] | select(.Username == $u) | .Device' "$WORK/users.json")
	got=$(column 7 | awk -v id="$id" '$1 == id { print $2 }')
	[ "$got" = "$dev" ] || fail "$user's device is '$got', not $dev"
done
[ "$(get "$SERVER_OBJ.3")" = "$(jq '."Active sessions"' "$WORK/status.json")" ] ||
	fail "sluiceSessionsActive $(get "$SERVER_OBJ.3") is not sluicectl's active sessions"
[ "$(get "$SERVER_OBJ.4")" = "$(jq '."Sessions started"' "$WORK/status.json")" ] ||
	fail "sluiceSessionsTotal is not sluicectl's sessions started"
[ "$(get "$SERVER_OBJ.3")" = 2 ] || fail "sluiceSessionsActive is not 2"

# Byte counters grow with traffic through alice's tunnel.
id1=$(jq -r '.[] | select(.Username == "alice") | .ID' "$WORK/users.json")
in0=$(column 8 | awk -v id="$id1" '$1 == id { print $2 }')
out0=$(column 9 | awk -v id="$id1" '$1 == id { print $2 }')
tin0=$(get "$SERVER_OBJ.5")
srv=$(server_tun_ip "$ip1") || fail "no server address for alice's tunnel"
ip netns exec "$NS_C1" ping -n -q -c 20 -i 0.05 -s 1000 -W 2 "$srv" >/dev/null ||
	fail "no traffic through alice's tunnel"
sleep 3.5 # a report every second, a cache of 2 s
in1=$(column 8 | awk -v id="$id1" '$1 == id { print $2 }')
out1=$(column 9 | awk -v id="$id1" '$1 == id { print $2 }')
tin1=$(get "$SERVER_OBJ.5")
log "alice: bytes in $in0 -> $in1, out $out0 -> $out1; server bytes in $tin0 -> $tin1"
[ "${in1:-0}" -ge $((${in0:-0} + 20000)) ] || fail "alice's bytes in did not grow with 20 KB of pings"
[ "${out1:-0}" -ge $((${out0:-0} + 20000)) ] || fail "alice's bytes out did not grow"
[ "${tin1:-0}" -ge $((${tin0:-0} + 20000)) ] || fail "sluiceBytesIn did not grow"

# A disconnect removes its row.
id2=$(jq -r '.[] | select(.Username == "bob") | .ID' "$WORK/users.json")
stop_client c2
for i in $(seq 1 10); do
	column 2 | grep -q "^$id2 " || break
	sleep 1
done
column 2 | grep -q "^$id2 " && fail "bob's row is still there after his disconnect"
column 2 | grep -qx "$id1 alice" || fail "alice's row went with bob's"
log "bob's row is gone after his disconnect"

# snmpd stopped: sluiced goes on serving clients (main never waits for SNMP).
stop_snmpd
start_client c3 "$NS_C2" bob bob-pw
ip3=$(wait_tunnel c3 15) || fail "no tunnel for bob while snmpd is stopped"
srv=$(server_tun_ip "$ip3") || fail "no server address for bob's tunnel"
ip netns exec "$NS_C2" ping -n -q -c 3 -i 0.2 -W 2 "$srv" >/dev/null ||
	fail "no traffic through bob's tunnel while snmpd is stopped"
ctl --json show status >/dev/null || fail "sluicectl does not answer while snmpd is stopped"
kill -0 "$SUB" 2>/dev/null || fail "sluice-snmp exited when snmpd stopped"

# snmpd back: the subagent reconnects by itself.
start_snmpd
wait_agent 20 || fail "the subagent did not reconnect to the restarted snmpd"
sleep 2.5
[ "$(column 2 | wc -l)" = 2 ] || fail "after snmpd's restart the table has not 2 rows"
log "the subagent reconnected to the restarted snmpd"

# A subagent that dies is started again by main, and serves again.
kill -KILL "$SUB"
for i in $(seq 1 20); do
	NEW=$(pgrep -P "$SERVER_PID" -x sluice-snmp) && [ "$NEW" != "$SUB" ] && break
	NEW=
	sleep 0.5
done
[ -n "$NEW" ] || fail "main did not start sluice-snmp again"
wait_agent 20 || fail "the restarted subagent did not register"
[ "$(get "$SERVER_OBJ.3")" = 2 ] || fail "the restarted subagent does not count 2 sessions"
log "main restarted the subagent (pid $SUB -> $NEW)"

stop_client c1
stop_client c3
grep -q "sluice-snmp (pid [0-9]*) killed by signal 31" "$SERVER_LOG" && fail "sluice-snmp hit its seccomp filter"
log "PASS"
