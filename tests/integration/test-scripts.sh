#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: connect-script, disconnect-script and host-update-script with ocserv's
# environment. A connect script that exits 1 refuses the login; one that hangs for
# alice does not delay bob's login and is killed after script-timeout (alice is then
# refused); the disconnect script sees REASON=disconnect and the STATS_* counters; a
# mobile client's device type and platform reach the scripts.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
make_certs
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
OUT=$WORK/scripts
mkdir -p "$OUT"
SCRIPT=$WORK/script.sh
# Every run leaves its environment in $OUT/REASON-USERNAME.env.
cat >"$SCRIPT" <<EOF
#!/bin/sh
env >"$OUT/\$REASON-\$USERNAME.env"
[ "\$REASON" = connect ] || exit 0
case "\$USERNAME" in
carol) exit 1 ;;
alice) echo started >"$OUT/alice.hang"; exec sleep 1000 ;;
esac
exit 0
EOF
chmod 755 "$SCRIPT"
write_config "connect-script = $SCRIPT
disconnect-script = $SCRIPT
host-update-script = $SCRIPT
script-timeout = 6"
start_server

envvar() { sed -n "s/^$2=//p" "$OUT/$1.env" 2>/dev/null; }

# carol: the connect script exits 1.
start_client carol "$NS_C2" carol carol-pw
wait_client_exit carol 20
[ -n "$(client_addr carol)" ] && fail "carol got a tunnel although her connect script failed"
server_log_has 'refused by the connect script' 5 || fail "no refusal logged for carol"
[ "$(envvar connect-carol IP_REAL)" = "$CLI_IP2" ] || fail "IP_REAL of carol's script is not $CLI_IP2"

# alice's connect script hangs; bob logs in meanwhile.
start_client alice "$NS_C1" alice alice-pw
for _ in $(seq 1 100); do
	[ -e "$OUT/alice.hang" ] && break
	sleep 0.1
done
[ -e "$OUT/alice.hang" ] || fail "alice's connect script did not start"
t0=$(date +%s%N)
# bob reports an Android device (X-AnyConnect-Identifier-*: DEVICE_TYPE, DEVICE_PLATFORM).
start_client bob "$NS_C2" bob bob-pw --os=android
ip_bob=$(wait_tunnel bob 15) || fail "no tunnel for bob while alice's script hangs"
ms=$((($(date +%s%N) - t0) / 1000000))
log "bob's tunnel $ip_bob after $ms ms while alice's script hangs"
[ "$ms" -lt 5000 ] || fail "bob's login took $ms ms"
[ -z "$(client_addr alice)" ] || fail "alice got a tunnel while her script hangs"
server_log_has 'connect-script .*alice.*still running after 6 s; killing it' 10 ||
	fail "alice's hanging script was not killed after the timeout"
wait_client_exit alice 15
[ -z "$(client_addr alice)" ] || fail "alice got a tunnel after her script timed out"

# bob's scripts: connect and host-update environments, then a disconnect with counters.
[ "$(envvar connect-bob REASON)" = connect ] || fail "no connect REASON for bob"
[ "$(envvar connect-bob IP_REMOTE)" = "$ip_bob" ] || fail "IP_REMOTE is not bob's $ip_bob"
# IPv4 networks with their netmask, as ocserv writes them
[ "$(envvar connect-bob OCSERV_ROUTES4)" = "$POOL_NET/255.255.255.0" ] ||
	fail "OCSERV_ROUTES4 is '$(envvar connect-bob OCSERV_ROUTES4)', not $POOL_NET/255.255.255.0"
[ "$(envvar connect-bob DEVICE_TYPE)" = android ] && [ "$(envvar connect-bob DEVICE_PLATFORM)" = android ] ||
	fail "DEVICE_TYPE/DEVICE_PLATFORM of bob's script: '$(envvar connect-bob DEVICE_TYPE)' '$(envvar connect-bob DEVICE_PLATFORM)'"
grep -q '^DEVICE_TYPE=$' "$OUT/connect-carol.env" || fail "DEVICE_TYPE of carol, who sent none, is not empty"
[ "$(envvar connect-bob VHOST)" = default ] || fail "VHOST of bob's script is not default"
dev=$(envvar connect-bob DEVICE)
case $dev in vpns*) ;; *) fail "DEVICE '$dev' of bob's connect script" ;; esac
for _ in $(seq 1 50); do
	[ -s "$OUT/host-update-bob.env" ] && break
	sleep 0.1
done
[ -n "$(envvar host-update-bob HOSTNAME)" ] || fail "no host-update script with HOSTNAME"
srv=$(server_tun_ip "$ip_bob") || fail "no server address for bob's tunnel"
ping_through "$NS_C2" "$srv" 5 -s 1000 >/dev/null || fail "bob's ping failed"
stop_client bob
for _ in $(seq 1 50); do
	[ -s "$OUT/disconnect-bob.env" ] && break
	sleep 0.1
done
[ "$(envvar disconnect-bob REASON)" = disconnect ] || fail "no disconnect script for bob"
in=$(envvar disconnect-bob STATS_BYTES_IN)
out=$(envvar disconnect-bob STATS_BYTES_OUT)
dur=$(envvar disconnect-bob STATS_DURATION)
log "disconnect: STATS_BYTES_IN=$in STATS_BYTES_OUT=$out STATS_DURATION=$dur"
[ "${in:-0}" -ge 5000 ] && [ "${out:-0}" -ge 5000 ] && [ -n "$dur" ] ||
	fail "the disconnect script lacks the byte counts of 5 pings of 1000 bytes"
pass "connect script refuses and times out without delaying others; disconnect sees counters"
