#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# IPv6 inside the tunnel (ipv6-network), with the real client:
# - a dual-stack session: the client gets its IPv6 address and the IPv6 split routes,
#   ping and iperf3 over IPv6 pass through CSTP, and then through DTLS (UDP counters);
# - the IPv6 DNS server reaches the client; sluicectl, the session log line, the audit
#   record and the connect script's environment show the IPv6 address;
# - an IPv6 iroute is routed to the session's device;
# - a session whose tunnel MTU is below 1280 goes without IPv6, and says so;
# - a reconnect with the cookie keeps the IPv6 address, and so does the client's own
#   reconnect after a network change;
# - explicit-ipv6 in a per-user file; a per-group ipv6-network with /64 prefixes per
#   client and restrict-user-to-routes for IPv6 destinations;
# - a spoofed IPv6 source from the client is dropped and counted;
# - openconnect --disable-ipv6 gets IPv4 only;
# - an IPv6-only server (no ipv4-network) gives a working IPv6-only tunnel, also to a
#   client that reaches it over IPv6 and carries the tunnel over DTLS on IPv6.
. "$(dirname "$0")/lib.sh"
require_sluiced
NET6=yes
it_init
require_cmd iperf3 jq
require_ctl
NET6=fd00:19::
SRV6=fd00:19::1
make_certs
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw lab
mkdir -p "$WORK/users" "$WORK/groups"
printf 'explicit-ipv6 = fd00:19::b0b\niroute = fd00:77::/48\n' >"$WORK/users/bob"
add_user dave dave-pw
echo "mtu = 1200" >"$WORK/users/dave"
cat >"$WORK/connect.sh" <<EOS
#!/bin/sh
env >"$WORK/connect-env.\$USERNAME"
EOS
chmod 755 "$WORK/connect.sh"
cat >"$WORK/groups/lab" <<EOG
ipv6-network = fd00:20::/48
ipv6-subnet-prefix = 64
route = fd00:20::/48
restrict-user-to-routes = true
EOG
write_config "ipv6-network = $NET6/64
route = $NET6/64
route = fd00:1234::/48
no-route = fd00:19:0:0:8000::/65
dns = fd00:19::53
config-per-user = $WORK/users
config-per-group = $WORK/groups
connect-script = $WORK/connect.sh
audit-log = $WORK/audit.json"
start_server

# --- dual stack over CSTP ------------------------------------------------------------------
export VPNC_ENV_LOG=$WORK/vpnc-env-alice
start_client c1 "$NS_C1" alice alice-pw
unset VPNC_ENV_LOG
vpn4=$(wait_tunnel c1 15) || fail "no tunnel for alice"
vpn6=$(wait_tunnel6 c1 5) || fail "alice's tunnel has no IPv6 address"
log "alice: $vpn4 and $vpn6"
case $vpn6 in fd00:19::*) ;; *) fail "address $vpn6 is outside ipv6-network" ;; esac
grep -qx "INTERNAL_IP6_NETMASK=$vpn6/128" "$WORK/vpnc-env-alice" ||
	fail "no INTERNAL_IP6_NETMASK=$vpn6/128: $(cat "$WORK/vpnc-env-alice")"
grep -q "^CISCO_IPV6_SPLIT_INC_.*_ADDR=fd00:1234::" "$WORK/vpnc-env-alice" ||
	fail "the IPv6 split-include did not reach the client"
grep -q "^CISCO_IPV6_SPLIT_EXC_.*_ADDR=fd00:19:0:0:8000::" "$WORK/vpnc-env-alice" ||
	fail "the IPv6 split-exclude did not reach the client"
# openconnect 9.01 lists every DNS server in INTERNAL_IP4_DNS, whatever its family.
grep -q "^INTERNAL_IP[46]_DNS=.*fd00:19::53" "$WORK/vpnc-env-alice" ||
	fail "the IPv6 DNS server did not reach the client: $(grep DNS "$WORK/vpnc-env-alice")"
out=$(ping6_through "$NS_C1" "$SRV6" 5) || fail "ping6 through the tunnel failed: $out"
log "ping6 over CSTP: $(tail -n 1 <<<"$out")"
for v in "IPV6_REMOTE=$vpn6" "IPV6_LOCAL=$SRV6" "IPV6_PREFIX=128" "IP_REMOTE=$vpn4" \
	"OCSERV_ROUTES6=$NET6/64 fd00:1234::/48"; do
	grep -qx "$v" "$WORK/connect-env.alice" || fail "the connect script got no $v"
done
grep -q "\"vpn_ip6\":\"$vpn6\"" "$WORK/audit.json" || fail "the audit record has no vpn_ip6 $vpn6"
up=$(IPERF_SECONDS=2 iperf_run "$NS_C1" "$SRV6") || fail "iperf3 over IPv6 client->server failed"
down=$(IPERF_SECONDS=2 iperf_run "$NS_C1" "$SRV6" -R) || fail "iperf3 over IPv6 server->client failed"
log "iperf3 over IPv6 and CSTP: up $up Mbit/s, down $down Mbit/s"
awk -v u="$up" -v d="$down" 'BEGIN { exit !(u > 0 && d > 0) }' || fail "no IPv6 throughput"

json=$(ctl --json show user alice) || fail "sluicectl show user failed"
[ "$(jq -r '.[0].IPv6' <<<"$json")" = "$vpn6" ] || fail "sluicectl shows IPv6 $(jq -r '.[0].IPv6' <<<"$json"), not $vpn6"
[ "$(jq -r '.[0]["P-t-P IPv6"]' <<<"$json")" = "$SRV6" ] || fail "sluicectl shows no P-t-P IPv6 $SRV6"
[ "$(jq -r '.[0].IPv4' <<<"$json")" = "$vpn4" ] || fail "sluicectl shows IPv4 $(jq -r '.[0].IPv4' <<<"$json")"
server_log_has "session start: .*user=alice .*vpn-ip6=$vpn6" 5 || fail "the session start line names no vpn-ip6"

# --- a spoofed IPv6 source is dropped and counted -------------------------------------------
spoof=fd00:19::ffff
ip -n "$NS_C1" -6 addr add "$spoof/128" dev "${CLIENT_IF[c1]}" nodad || fail "cannot add $spoof"
if ping6_through "$NS_C1" "$SRV6" 5 -I "$spoof" >/dev/null; then
	fail "a ping from the spoofed source $spoof was answered"
fi
ip -n "$NS_C1" -6 addr del "$spoof/128" dev "${CLIENT_IF[c1]}"

# --- reconnect with the cookie keeps the IPv6 address -----------------------------------------
stop_client c1 INT
server_log_has "session end: .*user=alice .*spoofed-dropped=[1-9]" 5 ||
	fail "alice's session end counts no spoofed packet"
cookie=$(get_cookie "$NS_C1" alice alice-pw) || fail "no cookie for alice"
start_cookie_client c2 "$NS_C1" "$cookie"
again=$(wait_tunnel6 c2 15) || fail "no IPv6 tunnel with the cookie"
[ "$again" = "$vpn6" ] || fail "the cookie's tunnel has $again, not alice's $vpn6"
log "cookie tunnel keeps $again"
# A network change: SIGUSR2 makes the client reconnect at once; it ends the session
# itself if its addresses differ afterwards.
starts=$(grep -c "session start: .*user=alice" "$SERVER_LOG")
kill -USR2 "${CLIENT_PID[c2]}"
wait_output 15 awk -v n="$starts" '/session start: .*user=alice/ { c++ } END { if (c > n) print c }' \
	"$SERVER_LOG" >/dev/null || fail "the client did not reconnect after SIGUSR2"
sleep 1
kill -0 "${CLIENT_PID[c2]}" 2>/dev/null || fail "the client ended after its reconnect: $(tail -n 5 "${CLIENT_LOG[c2]}")"
[ "$(client_addr6 c2)" = "$vpn6" ] || fail "the reconnected tunnel has $(client_addr6 c2)"
grep -q "session start: .*user=alice .*vpn-ip6=$vpn6" <(tail -n 20 "$SERVER_LOG") ||
	fail "the reconnected session has another IPv6 address"
log "the client's own reconnect keeps $vpn6"
stop_client c2 INT

# --- explicit-ipv6; a group's pool of /64 prefixes with restrict-user-to-routes --------------
start_client c7 "$NS_C2" bob bob-pw
b6=$(wait_tunnel6 c7 15) || fail "no IPv6 for bob"
[ "$b6" = fd00:19::b0b ] || fail "bob got $b6, not his explicit-ipv6"
dev=$(ctl --json show user bob | jq -r '.[0].Device')
wait_output 5 ip -n "$NS_SRV" -6 route show fd00:77::/48 dev "$dev" >/dev/null ||
	fail "bob's IPv6 iroute is not routed to $dev"
stop_client c7 INT
start_client c9 "$NS_C2" dave dave-pw
wait_tunnel c9 15 >/dev/null || fail "no tunnel for dave"
[ -z "$(client_addr6 c9)" ] || fail "dave got IPv6 with mtu = 1200"
server_log_has "tunnel MTU 11[0-9][0-9] is below IPv6's minimum of 1280; no IPv6" 5 ||
	fail "no log line says why dave has no IPv6"
stop_client c9 INT
export VPNC_ENV_LOG=$WORK/vpnc-env-carol
start_client c8 "$NS_C2" carol carol-pw
unset VPNC_ENV_LOG
c6=$(wait_tunnel6 c8 15) || fail "no IPv6 for carol"
[[ $c6 == fd00:20:0:*::1 ]] || fail "carol got $c6, not an address of a /64 of her group's pool"
grep -qx "INTERNAL_IP6_NETMASK=$c6/64" "$WORK/vpnc-env-carol" || fail "carol's prefix is not a /64"
out=$(ping6_through "$NS_C2" fd00:20::1 3) || fail "carol's ping6 to her pool's server address failed: $out"
# Outside her routes: the client would send it, the server must drop it.
ip -n "$NS_C2" -6 route add "$NET6/64" dev "${CLIENT_IF[c8]}" || fail "cannot route $NET6/64"
if ping6_through "$NS_C2" "$SRV6" 3 >/dev/null; then
	fail "carol reached $SRV6, outside her routes"
fi

log "carol: $c6"
stop_client c8 INT
server_log_has "session end: .*user=carol .*route-dropped=[1-9]" 5 ||
	fail "carol's session end counts no packet outside her routes"

# --- DTLS --------------------------------------------------------------------------------------
CLIENT_DTLS=yes
start_client c3 "$NS_C1" alice alice-pw
wait_dtls c3 15 >/dev/null || fail "no DTLS session"
v6=$(wait_tunnel6 c3 15) || fail "no IPv6 address with DTLS"
before=$(udp_counters)
out=$(ping6_through "$NS_C1" "$SRV6" 20) || fail "ping6 over DTLS failed: $out"
expect_udp "$before" "$(udp_counters)" 20 "server, during 20 IPv6 pings"
before=$(udp_counters)
up=$(IPERF_SECONDS=2 iperf_run "$NS_C1" "$SRV6") || fail "iperf3 over IPv6 and DTLS failed"
down=$(IPERF_SECONDS=2 iperf_run "$NS_C1" "$SRV6" -R) || fail "iperf3 over IPv6 and DTLS (-R) failed"
expect_udp "$before" "$(udp_counters)" 500 "server, during iperf3 over IPv6"
log "iperf3 over IPv6 and DTLS: up $up Mbit/s, down $down Mbit/s"
stop_client c3 INT
CLIENT_DTLS=no

# --- a client without IPv6 -----------------------------------------------------------------------
start_client c4 "$NS_C2" bob bob-pw --disable-ipv6
wait_tunnel c4 15 >/dev/null || fail "no tunnel for bob with --disable-ipv6"
sleep 0.5
[ -z "$(client_addr6 c4)" ] || fail "bob got an IPv6 address despite --disable-ipv6"
[ "$(ctl --json show user bob | jq -r '.[0].IPv6')" = null ] || fail "sluicectl shows IPv6 for bob"
stop_client c4 INT

# --- IPv6 only -----------------------------------------------------------------------------------
stop_server
write_config "ipv4-network = REMOVE
listen-host = ::
route = $NET6/64"
sed -i '/^ipv4-network = REMOVE$/d' "$SERVER_CONF"
sed -i "s|^route = $NET6/64|ipv6-network = $NET6/64\nroute = $NET6/64|" "$SERVER_CONF"
start_server
start_client c5 "$NS_C1" alice alice-pw
v6=$(wait_tunnel6 c5 15) || fail "no IPv6-only tunnel"
[ -z "$(client_addr c5)" ] || fail "the IPv6-only server gave an IPv4 address"
out=$(ping6_through "$NS_C1" "$SRV6" 3) || fail "ping6 in the IPv6-only tunnel failed: $out"
log "IPv6-only tunnel: $v6"
start_client c6 "$NS_C2" bob bob-pw --disable-ipv6
expect_refused c6 "an IPv4-only client of an IPv6-only server"
server_log_has "no tunnel.*the client cannot have IPv6" 5 || fail "no log line says why bob was refused"
stop_client c5 INT
# IPv6 end to end: the client reaches the server at its IPv6 address, DTLS included.
udp_peer_watch "$CLI6_IP1"
CLIENT_DTLS=yes CLIENT_FAMILY=6 start_client c10 "$NS_C1" alice alice-pw
wait_dtls c10 15 >/dev/null || fail "no DTLS over IPv6"
v6=$(wait_tunnel6 c10 15) || fail "no IPv6-only tunnel over IPv6"
before=$(udp_peer_packets "$CLI6_IP1")
out=$(ping6_through "$NS_C1" "$SRV6" 10) || fail "ping6 over DTLS over IPv6 failed: $out"
expect_udp "$before" "$(udp_peer_packets "$CLI6_IP1")" 10 "server, IPv6 end to end"
log "IPv6 end to end: $v6 over DTLS from $CLI6_IP1"
pass
