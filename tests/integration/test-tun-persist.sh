#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: TUN devices are the kernel's to keep, not main's descriptors. With two
# real clients connected, main holds no descriptor of either device and each device's
# alias names this sluiced; a worker killed with SIGKILL still gets its session's full
# byte count in the audit log (read from the device by name) and its device is deleted;
# after sluiced itself is killed with SIGKILL its devices stay, and the next sluiced
# deletes them at start-up and logs it, while a device whose alias names a running
# sluiced is left alone.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
make_certs
add_user alice alice-pw
add_user bob bob-pw
AUDIT=$WORK/audit.log
write_config "audit-log = $AUDIT"
start_server

devices() { ip -n "$NS_SRV" -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep '^vpns' | sort; }
alias_of() { ip -n "$NS_SRV" -o link show dev "$1" | sed -n 's/.*alias \(.*\)$/\1/p'; }

start_client a "$NS_C1" alice alice-pw
ip_a=$(wait_tunnel a 15) || fail "alice: no tunnel"
start_client b "$NS_C2" bob bob-pw
wait_tunnel b 15 >/dev/null || fail "bob: no tunnel"
[ "$(devices | wc -l)" = 2 ] || fail "devices: $(devices)"
for d in $(devices); do
	[ "$(alias_of "$d")" = "sluiced $SERVER_PID" ] || fail "$d's alias: '$(alias_of "$d")'"
done
# main's descriptors name no TUN device: the workers hold them.
for fd in /proc/"$SERVER_PID"/fd/*; do
	[ "$(readlink "$fd")" = /dev/net/tun ] && fail "main holds a TUN descriptor ($fd)"
done
log "two sessions: devices $(devices | tr '\n' ' ')with sluiced's alias, none held by main"

# A worker killed outright: its session's bytes from the device, then the device goes.
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip_a")" 5 -s 1000) || fail "no traffic: $out"
wa=$(session_worker alice) || fail "no worker for alice"
dev_a=$(grep -E "session start: .*user=alice " "$SERVER_LOG" | tail -1 | sed -n 's/.* device=\([^ ]*\).*/\1/p')
# openconnect reconnects with its cookie, and may get a device of the same name: the
# index tells the old one from a new one.
index_of() { ip -n "$NS_SRV" -o link show dev "$1" 2>/dev/null | cut -d: -f1; }
idx_a=$(index_of "$dev_a")
[ -n "$idx_a" ] || fail "no index for $dev_a"
kill -KILL "$wa"
server_log_has "session end: .*user=alice " 10 || fail "no session end for alice"
for i in $(seq 1 30); do grep -q '"session-end"' "$AUDIT" && break; sleep 0.1; done
jq -e -s 'map(select(.event == "session-end" and .user == "alice"))[0]
	| .bytes_in >= 5000 and .bytes_out >= 5000' "$AUDIT" >/dev/null ||
	fail "alice's session end lacks her bytes: $(grep session-end "$AUDIT")"
for i in $(seq 1 30); do [ "$(index_of "$dev_a")" = "$idx_a" ] || break; sleep 0.1; done
[ "$(index_of "$dev_a")" = "$idx_a" ] && fail "$dev_a (index $idx_a) outlived its session"
log "a SIGKILLed worker's session has its bytes in the audit log; its device $dev_a (index $idx_a) is deleted"
stop_client a

# sluiced killed outright: its devices stay until the next one starts.
kids=$(descendants "$SERVER_PID")
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
for k in $kids; do
	for i in $(seq 1 50); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$k" 2>/dev/null
done
OLD=$SERVER_PID
SERVER_PID=
left=$(devices)
[ -n "$left" ] || fail "no device left after SIGKILL of sluiced"
stop_client b
# A device of a sluiced that is running (this test's stand-in: a process named sluiced)
# is not touched.
cp /bin/sleep "$WORK/sluiced"
"$WORK/sluiced" 60 &
DECOY=$!
OWN_PIDS+=("$DECOY")
ip netns exec "$NS_SRV" ip tuntap add dev vpns9 mode tun
ip -n "$NS_SRV" link set dev vpns9 alias "sluiced $DECOY"
SERVER_LOG=$WORK/server2.log
start_server
server_log_has "deleted $(echo "$left" | wc -l) TUN devices? left by a sluiced that no longer runs" 5 ||
	fail "the new sluiced did not delete $(echo "$left" | tr '\n' ' '): $(grep -i tun "$SERVER_LOG")"
for d in $left; do devices | grep -qx "$d" && fail "$d of sluiced $OLD is still there"; done
devices | grep -qx vpns9 || fail "the device of a running sluiced was deleted"
ip -n "$NS_SRV" link del vpns9
start_client c "$NS_C1" alice alice-pw
wait_tunnel c 15 >/dev/null || fail "no tunnel after the restart"
log "after SIGKILL of sluiced its devices ($(echo $left)) stayed; the next sluiced deleted them and left a running one's"
pass
