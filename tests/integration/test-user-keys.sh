#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: session-timeout, split-dns and restrict-user-to-routes, global and per
# user, with the real client.
# - split-dns: the global domain reaches bob; sara's file replaces it with two of her
#   own; openconnect -v shows the X-CSTP-Split-DNS headers, the vpnc-script gets
#   CISCO_SPLIT_DNS, show user lists Split-DNS-Domains.
# - restrict-user-to-routes (rita's file): a ping to an address outside her routes is
#   dropped and counted (show user, session end log) while bob, unrestricted, gets an
#   answer from the same address; a ping inside her routes works.
# - session-timeout (tim's file, 8 s): counted from the login, not from the tunnel: a
#   tunnel opened with the cookie 3 s later is told at most 5 s, a reconnect after
#   SIGKILL (5 s after the login) does not restart the clock, the session ends with reason "session
#   timeout", and the cookie is refused afterwards.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
CTL=$top_builddir/src/sluicectl
[ -x "$CTL" ] || fail "no $CTL; build first"
ctl() { ip netns exec "$NS_SRV" "$CTL" -s "$WORK/occtl.sock" "$@"; }
client_has() { grep -qF -- "$2" "${CLIENT_LOG[$1]}"; }

OUTSIDE=198.18.7.1 # on the server, outside every route the clients get
check_addr $OUTSIDE
TIMEOUT=8

mkdir -p "$WORK/users"
printf 'split-dns = corp.example.com\nsplit-dns = lab.example.org\n' >"$WORK/users/sara"
printf 'restrict-user-to-routes = true\nstats-report-time = 1\n' >"$WORK/users/rita"
echo "session-timeout = $TIMEOUT" >"$WORK/users/tim"
make_certs
add_user bob bob-pw
add_user sara sara-pw
add_user rita rita-pw
add_user tim tim-pw
write_config "config-per-user = $WORK/users
split-dns = global.example.net"
start_server
ip -n "$NS_SRV" addr add $OUTSIDE/32 dev lo || fail "cannot add $OUTSIDE in the server"

# split-dns: the global domain, and a user's file that replaces it.
export VPNC_ENV_LOG=$WORK/vpnc-env-bob
start_client b1 "$NS_C1" bob bob-pw -v
wait_tunnel b1 15 >/dev/null || fail "no tunnel for bob"
client_has b1 "X-CSTP-Split-DNS: global.example.net" || fail "bob did not get the global split-dns"
grep -qx "CISCO_SPLIT_DNS=global.example.net" "$VPNC_ENV_LOG" ||
	fail "bob's vpnc-script: $(cat "$VPNC_ENV_LOG" 2>&1)"
export VPNC_ENV_LOG=$WORK/vpnc-env-sara
start_client s1 "$NS_C2" sara sara-pw -v
wait_tunnel s1 15 >/dev/null || fail "no tunnel for sara"
unset VPNC_ENV_LOG
for h in "X-CSTP-Split-DNS: corp.example.com" "X-CSTP-Split-DNS: lab.example.org"; do
	client_has s1 "$h" || fail "sara's client did not get '$h'"
done
client_has s1 "global.example.net" && fail "sara got the global split-dns besides her own"
# openconnect joins the headers with commas, the last one first.
got=$(sed -n 's/^CISCO_SPLIT_DNS=//p' "$WORK/vpnc-env-sara" 2>/dev/null | tr , '\n' | sort | paste -sd,)
[ "$got" = "corp.example.com,lab.example.org" ] ||
	fail "sara's vpnc-script: $(cat "$WORK/vpnc-env-sara" 2>&1)"
ctl --json show user sara | jq -e '.[0]."Split-DNS-Domains" == ["corp.example.com",
	"lab.example.org"] and .[0]."Restricted to routes" == "False" and
	.[0]."Session timeout" == 0' >/dev/null || fail "show user sara: $(ctl --json show user sara)"
log "split-dns: bob got the global domain, sara her two; CISCO_SPLIT_DNS as expected"
stop_client s1

# restrict-user-to-routes: bob (unrestricted) reaches $OUTSIDE through his tunnel, rita
# does not; both reach the server's end of their tunnels, inside the pool route.
ip -n "$NS_C1" route add $OUTSIDE/32 dev "${CLIENT_IF[b1]}" || fail "no route to $OUTSIDE for bob"
out=$(ping_through "$NS_C1" $OUTSIDE 2) || fail "bob, unrestricted, cannot reach $OUTSIDE: $out"
stop_client b1
start_client r1 "$NS_C2" rita rita-pw
ip_r=$(wait_tunnel r1 15) || fail "no tunnel for rita"
ip -n "$NS_C2" route add $OUTSIDE/32 dev "${CLIENT_IF[r1]}" || fail "no route to $OUTSIDE for rita"
out=$(ping_through "$NS_C2" "$(server_tun_ip "$ip_r")" 2) ||
	fail "rita cannot reach the server's tunnel address inside her routes: $out"
out=$(ping_through "$NS_C2" $OUTSIDE 3) && fail "rita reached $OUTSIDE outside her routes: $out"
for i in $(seq 1 30); do
	n=$(ctl --json show user rita | jq '.[0]."Dropped outside routes"')
	[ "${n:-0}" -ge 3 ] && break
	sleep 0.2
done
[ "${n:-0}" -ge 3 ] || fail "show user rita counts ${n:-no} dropped packets: $(ctl --json show user rita)"
ctl --json show user rita | jq -e '.[0]."Restricted to routes" == "True"' >/dev/null ||
	fail "show user rita: not restricted"
ctl show user rita | grep -Eq 'Restricted to routes: True' || fail "show user rita (text)"
stop_client r1
server_log_has "session end: .*user=rita .*route-dropped=[3-9][0-9]* " 5 ||
	fail "rita's session end does not count the dropped packets"
log "restrict-user-to-routes: $OUTSIDE answered bob, dropped and counted ($n) for rita"

# session-timeout: counted from the login.
login=$(date +%s)
cookie=$(get_cookie "$NS_C1" tim tim-pw)
[ -n "$cookie" ] || fail "no cookie for tim"
sleep 3
start_cookie_client t1 "$NS_C1" "$cookie" -v
wait_tunnel t1 15 >/dev/null || fail "no tunnel for tim"
left=$(sed -n 's/.*X-CSTP-Session-Timeout: \([0-9]*\).*/\1/p' "${CLIENT_LOG[t1]}" | head -n 1)
[ -n "$left" ] && [ "$left" -ge 1 ] && [ "$left" -le $((TIMEOUT - 3)) ] ||
	fail "X-CSTP-Session-Timeout is '${left:-absent}', not the 1 to $((TIMEOUT - 3)) s left"
ctl --json show user tim | jq -e --argjson t $TIMEOUT --argjson l "$login" \
	'.[0]."Session timeout" == $t and .[0].raw_session_started_at >= $l and
	 .[0].raw_connected_at - .[0].raw_session_started_at >= 2' >/dev/null ||
	fail "show user tim: $(ctl --json show user tim)"
sleep 1
stop_client t1 KILL
start_cookie_client t2 "$NS_C1" "$cookie" -v
wait_tunnel t2 15 >/dev/null || fail "tim's cookie does not reconnect before the timeout"
left2=$(sed -n 's/.*X-CSTP-Session-Timeout: \([0-9]*\).*/\1/p' "${CLIENT_LOG[t2]}" | tail -n 1)
[ -n "$left2" ] && [ "$left2" -le "$left" ] ||
	fail "the reconnect announced ${left2:-no} s left, more than the first tunnel's $left"
wait_client_exit t2 $((TIMEOUT + 10))
[ $? = 124 ] && fail "tim's client still runs $((TIMEOUT + 10)) s after its reconnect"
unset "CLIENT_PID[t2]"
ended=$(date +%s)
# A clock restarted by the reconnect (about 5 s after the login) would end it later.
[ $((ended - login)) -le $((TIMEOUT + 3)) ] ||
	fail "tim's session ended $((ended - login)) s after the login, not about $TIMEOUT s"
server_log_has "session end: .*user=tim .*reason=session timeout " 5 ||
	fail "no session end with reason 'session timeout' for tim"
start_cookie_client t3 "$NS_C1" "$cookie"
expect_refused t3 "tim's cookie after the session timeout"
# Refused by sec, not a tunnel that main ended at once.
[ "$(grep -c "session start: .*user=tim " "$SERVER_LOG")" = 2 ] ||
	fail "tim's cookie opened a tunnel after the session timeout"
log "session-timeout: ended $((ended - login)) s after the login; the cookie is refused"
pass "session-timeout, split-dns, restrict-user-to-routes"
