#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: per-user and per-group files with the real client.
# - alice (group eng): her file's routes, DNS and iroute plus her group's route, DPD
#   and max-same-clients reach the client; the global route is replaced; the iroute
#   is routed to her device and packets from the network behind her client pass the
#   source check (a ping from the server side to an address behind the client is
#   answered); show user / show iroutes list them (text and --json).
# - bob (no file, no group): default-user-config and default-group-config apply.
# - dave's group file sets a pool of its own; erin's overlaps the global pool and her
#   tunnel is refused. frank's explicit-ipv4 is his address; gina's, the same, is
#   refused while frank has it.
# - carol: an invalid file refuses her login; sluiced -t and the start-up log name
#   the file and line.
# - An edited user file applies at the next login; a SIGHUP that points
#   default-user-config elsewhere and sets route-add-cmd/route-del-cmd applies to new
#   logins while bob's session stays up.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
require_ctl

BEHIND=198.18.5.0/24 # the network behind alice's client
BEHIND_HOST=198.18.5.1
check_addr $BEHIND_HOST

mkdir -p "$WORK/users" "$WORK/groups"
cat >"$WORK/users/alice" <<EOF
# alice's site
route = 198.18.100.0/24
dns = 198.18.0.53
iroute = $BEHIND
client-bypass-protocol = true
# ocserv's per-user spellings
ipv4-nbns = 198.18.0.54
tunnel_all_dns = true
EOF
cat >"$WORK/groups/eng" <<EOF
route = 198.18.101.0/24
dpd = 40
max-same-clients = 1
EOF
echo "route = 198.18.102.0/24" >"$WORK/default-user"
echo "route = 198.18.104.0/24" >"$WORK/default-user-2"
echo "keepalive = 45" >"$WORK/default-group"
printf 'route = 198.18.100.0/24\ndpd = soon\n' >"$WORK/users/carol"
printf 'ipv4-network = 198.19.1.0\nipv4-netmask = 255.255.255.0\n' >"$WORK/groups/ops"
echo "ipv4-network = 198.19.0.128/25" >"$WORK/users/erin" # inside the global pool
echo "explicit-ipv4 = 198.19.0.77" >"$WORK/users/frank"
echo "explicit-ipv4 = 198.19.0.77" >"$WORK/users/gina"

make_certs
add_user alice alice-pw eng
add_user bob bob-pw
add_user carol carol-pw
add_user dave dave-pw ops
add_user erin erin-pw
add_user frank frank-pw
add_user gina gina-pw
dirs="config-per-user = $WORK/users
config-per-group = $WORK/groups
default-group-config = $WORK/default-group
expose-iroutes = true"
write_config "$dirs
default-user-config = $WORK/default-user"

# sluiced -t reads every per-user and per-group file: carol's is named, with its line.
"$(server_bin)" -t -c "$SERVER_CONF" >"$WORK/t.out" 2>&1 && fail "sluiced -t accepted carol's file"
grep -q "users/carol:2: key 'dpd'" "$WORK/t.out" || fail "sluiced -t output: $(cat "$WORK/t.out")"
start_server
server_log_has "users/carol:2: key 'dpd'.*refused" 5 || fail "no warning about carol's file at start"

# The CSTP headers the client received (openconnect -v prints them).
client_has() { grep -qF -- "$2" "${CLIENT_LOG[$1]}"; }

start_client c1 "$NS_C1" alice alice-pw -v
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice"
for h in "X-CSTP-Split-Include: 198.18.100.0/24" "X-CSTP-Split-Include: 198.18.101.0/24" \
	"X-CSTP-DNS: 198.18.0.53" "X-CSTP-DPD: 40" "X-CSTP-Keepalive: 30" \
	"X-CSTP-Client-Bypass-Protocol: true" "X-CSTP-NBNS: 198.18.0.54" \
	"X-CSTP-Tunnel-All-DNS: true"; do
	client_has c1 "$h" || fail "alice's client did not get '$h'"
done
client_has c1 "X-CSTP-Split-Include: $POOL_NET/" &&
	fail "alice got the global route although her files set routes"
log "alice ($ip1) got her user's and her group's settings"

# iroute: routed to her device on the server, and what comes from behind her passes.
dev=$(ctl --json show user alice | jq -r '.[0].Device')
ip -n "$NS_SRV" route show "$BEHIND" | grep -q "dev $dev" ||
	fail "no route $BEHIND via $dev: $(ip -n "$NS_SRV" route show)"
ip -n "$NS_C1" addr add $BEHIND_HOST/32 dev lo || fail "cannot add $BEHIND_HOST in the client"
out=$(ping_through "$NS_SRV" $BEHIND_HOST 3) || fail "no answer from behind alice's client: $out"
log "the network behind alice answers through the tunnel"

ctl --json show user alice | jq -e --arg n "$BEHIND" \
	'.[0].iRoutes == [$n] and .[0].DNS == ["198.18.0.53"] and
	 .[0].Routes == ["198.18.101.0/24", "198.18.100.0/24"]' >/dev/null ||
	fail "show user alice: $(ctl --json show user alice)"
ctl --json show iroutes >"$WORK/iroutes.json" || fail "show iroutes --json failed"
jq -e --arg n "$BEHIND" --arg d "$dev" --arg ip "$ip1" \
	'length == 1 and .[0].Username == "alice" and .[0].Device == $d and .[0].IP == $ip and
	 .[0].iRoutes == [$n]' "$WORK/iroutes.json" >/dev/null ||
	fail "show iroutes --json: $(cat "$WORK/iroutes.json")"
ctl show iroutes | grep -E "alice +default +$dev +$ip1 +$BEHIND" >/dev/null ||
	fail "show iroutes: $(ctl show iroutes)"

# max-same-clients = 1 from her group: a second login is refused.
get_cookie "$NS_C2" alice alice-pw >/dev/null && fail "a second login of alice was accepted"
server_log_has "too many sessions" 5 || fail "no 'too many sessions' for alice's second login"

# bob: no file of his own, no group.
start_client c2 "$NS_C2" bob bob-pw -v
wait_tunnel c2 15 >/dev/null || fail "no tunnel for bob"
client_has c2 "X-CSTP-Split-Include: 198.18.102.0/24" || fail "bob did not get the default user route"
client_has c2 "X-CSTP-Keepalive: 45" || fail "bob did not get the default group keepalive"
client_has c2 "X-CSTP-Client-Bypass-Protocol: false" || fail "bob did not get client-bypass-protocol false"
client_has c2 "X-CSTP-Tunnel-All-DNS" && fail "bob got tunnel-all-dns"
# expose-iroutes: bob gets the network behind alice's client as a route, and reaches it.
client_has c2 "X-CSTP-Split-Include: $BEHIND" || fail "bob did not get alice's iroute $BEHIND"
# (the test's vpnc-script adds only the pool's route: this one as a full script would;
# the server forwards between its clients, as a VPN server's host is set up to)
ip -n "$NS_C2" route add "$BEHIND" dev "${CLIENT_IF[c2]}" || fail "cannot route $BEHIND into bob's tunnel"
ip netns exec "$NS_SRV" sysctl -qw net.ipv4.ip_forward=1 || fail "cannot turn on forwarding"
out=$(ping_through "$NS_C2" $BEHIND_HOST 3) || fail "bob cannot reach the network behind alice: $out"
log "expose-iroutes: bob reaches $BEHIND behind alice's client"
ctl --json show iroutes | jq -e 'length == 1' >/dev/null || fail "show iroutes lists bob"
log "bob got default-user-config and default-group-config"

# dave's group has a pool of its own; erin's would overlap the global one.
start_client c5 "$NS_C2" dave dave-pw
ip5=$(wait_tunnel c5 15) || fail "no tunnel for dave"
case $ip5 in 198.19.1.*) ;; *) fail "dave got $ip5, not an address of his group's pool" ;; esac
[ "$(server_tun_ip "$ip5")" = 198.19.1.1 ] || fail "dave's tunnel's server side is not 198.19.1.1"
out=$(ping_through "$NS_C2" 198.19.1.1 2) || fail "no ping through dave's tunnel: $out"
start_client c6 "$NS_C1" erin erin-pw
wait_client_exit c6 20
[ $? != 124 ] || fail "erin's client did not give up"
server_log_has "no tunnel for session .*: no address pool: .*198.19.0.128/25 overlaps the pool 198.19.0.0/24" 5 ||
	fail "no log of erin's overlapping pool"
log "dave ($ip5) got his group's pool; erin's overlapping one was refused"

# explicit-ipv4: frank gets exactly his address; gina, who would need it too, does not.
start_client c7 "$NS_C1" frank frank-pw
ip7=$(wait_tunnel c7 15) || fail "no tunnel for frank"
[ "$ip7" = 198.19.0.77 ] || fail "frank got $ip7, not his explicit-ipv4 198.19.0.77"
start_client c8 "$NS_C2" gina gina-pw
wait_client_exit c8 20
[ $? != 124 ] || fail "gina's client did not give up"
server_log_has "explicit-ipv4 198.19.0.77: in use" 5 || fail "no log of gina's address in use"
stop_client c7
log "frank got his explicit address; gina was refused while he had it"

# carol: her file is invalid, so she does not get in.
get_cookie "$NS_C2" carol carol-pw >/dev/null && fail "carol logged in despite her invalid file"
server_log_has "users/carol:2: key 'dpd'" 5 || fail "the log does not name carol's file and line"
log "carol's invalid file refused her login"

# Edits apply at the next login; a SIGHUP changes the files and commands sec and main use.
stop_client c1
echo "route = 198.18.103.0/24" >>"$WORK/users/alice"
write_config "$dirs
default-user-config = $WORK/default-user-2
route-add-cmd = \"echo add %{RI} %{R} %{D} >>$WORK/routes.log\"
route-del-cmd = \"echo del %{RI} %{D} >>$WORK/routes.log\""
kill -HUP "$SERVER_PID"
server_log_has "configuration reloaded" 5 || fail "no reload in the log"
start_client c3 "$NS_C1" alice alice-pw -v
ip3=$(wait_tunnel c3 15) || fail "no tunnel for alice after the reload"
client_has c3 "X-CSTP-Split-Include: 198.18.103.0/24" || fail "alice's edited file was not read"
dev3=$(ctl --json show user alice | jq -r '.[0].Device')
for i in $(seq 1 50); do
	grep -qx "add $BEHIND 198.18.5.0/255.255.255.0 $dev3" "$WORK/routes.log" 2>/dev/null && break
	sleep 0.1
done
grep -qx "add $BEHIND 198.18.5.0/255.255.255.0 $dev3" "$WORK/routes.log" ||
	fail "route-add-cmd did not run as expected: $(cat "$WORK/routes.log" 2>&1)"
stop_client c3
for i in $(seq 1 50); do
	grep -qx "del $BEHIND $dev3" "$WORK/routes.log" && break
	sleep 0.1
done
grep -qx "del $BEHIND $dev3" "$WORK/routes.log" ||
	fail "route-del-cmd did not run at the session end: $(cat "$WORK/routes.log")"
log "alice ($ip3) got her edited file; route-add-cmd and route-del-cmd ran"

kill -0 "${CLIENT_PID[c2]}" 2>/dev/null || fail "bob's client ended during the reload"
out=$(ping_through "$NS_C2" "$(server_tun_ip "$(client_addr c2)")" 2) ||
	fail "bob's session does not work after the reload: $out"
start_client c4 "$NS_C2" bob bob-pw -v
wait_tunnel c4 15 >/dev/null || fail "no second tunnel for bob"
client_has c4 "X-CSTP-Split-Include: 198.18.104.0/24" ||
	fail "the reloaded default-user-config does not apply to bob's new login"
pass "per-user and per-group files, iroutes, show iroutes, reload"
