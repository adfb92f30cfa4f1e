#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: auth = "radius[config=FILE,groupconfig=true,nas-identifier=NAME]" against a
# real FreeRADIUS 3.2 (tests/integration/radius.sh) in the server's namespace, through
# radcli in sec's auth helpers:
# - alice: Access-Accept with Class "staff": the session's group, with its per-group file;
# - a wrong password: Access-Reject, audited with the reason;
# - bob: Framed-IP-Address and -Netmask, Framed-Route, MS-Primary-DNS-Server,
#   Session-Timeout, Idle-Timeout and Framed-IPv6-Prefix become the session's address,
#   route, DNS, timeouts and IPv6 pool; dan: RP-*-Speed-Limit become its bandwidth limits;
# - quinn: Class "metered" is the group whose file sets session-quota-bytes, and rosa:
#   ChilliSpot-Max-Total-Octets: main ends the session once its traffic goes beyond it
#   (reason "quota exceeded");
# - carol: Access-Challenge as a second form, answered from stdin (the right and a wrong
#   code);
# - slow (FreeRADIUS answers after 10 s): alice with a RADIUS login and erin with a
#   certificate (enable-auth = certificate) are connected meanwhile, then slow too;
# - FreeRADIUS stopped: the login fails with "did not answer", and scores no ban points
#   (a wrong password does);
# - the RADIUS helper runs as run-as-user (nobody) under its seccomp filter.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/radius.sh"
require_sluiced
require_cmd jq
it_init
require_ctl
make_certs
make_client_cert erin erin

radius_start 'dan	Cleartext-Password := "dan-pw"
	RP-Upstream-Speed-Limit := 800,
	RP-Downstream-Speed-Limit := 1600

quinn	Cleartext-Password := "quinn-pw"
	Class := "metered"

rosa	Cleartext-Password := "rosa-pw"
	ChilliSpot-Max-Total-Octets := 40000
'
radius_client_config 6 1
mkdir -p "$WORK/groups"
echo "route = 198.18.60.0/24" >"$WORK/groups/staff"
echo "session-quota-bytes = 40000" >"$WORK/groups/metered"
AUDIT=$WORK/audit.json
# ban-reset-time at its longest: 1000 points drain over a week, so that the scores
# the test compares do not move while it runs.
write_config "auth = \"radius[config=$RADCLI_CONF,groupconfig=true,nas-identifier=sluice-test]\"
enable-auth = certificate
ca-cert = $CA_CERT
config-per-group = $WORK/groups
audit-log = $AUDIT
auth-helper-timeout = 20
max-ban-score = 1000
ban-reset-time = 604800
ban-points-wrong-password = 10
ban-points-connection = 0"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) || fail "sluiced -t: $out"
start_server
client_has() { grep -qF -- "$2" "${CLIENT_LOG[$1]}"; }
# ban_score IP: the ban points of a client address (0 when it has none).
ban_score()
{
	ctl --json show ip ban points | jq -r --arg ip "$1" '[.[] | select(.IP == $ip) | .Score] | first // 0'
}

# alice: Class is her group, and the group's file applies.
start_client a1 "$NS_C1" alice alice-pw -v
wait_tunnel a1 20 >/dev/null || fail "no tunnel for alice's RADIUS login"
json=$(ctl --json show user alice) || fail "sluicectl show user alice"
[ "$(jq -r '.[0].Authentication' <<<"$json")" = radius ] || fail "Authentication is not radius: $json"
[ "$(jq -r '.[0].Groupname' <<<"$json")" = staff ] || fail "Class did not make the group: $json"
client_has a1 "X-CSTP-Split-Include: 198.18.60.0/24" || fail "the group file's route is missing"
grep -q 'NAS-Identifier = "sluice-test"' "$RADIUS_LOG" || fail "no NAS-Identifier in the request"
grep -q 'Calling-Station-Id = "198.18.0.2"' "$RADIUS_LOG" || fail "no Calling-Station-Id"
log "alice: RADIUS login, group staff from Class"

# The helper: run-as-user, seccomp, no capability.
hpid=$(sed -n 's/.*auth helper started (pid \([0-9]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
[ -n "$hpid" ] || fail "no auth helper in the log"
status=$(cat "/proc/$hpid/status") || fail "the helper $hpid is gone"
grep -Eq "^Uid:\s+$(id -u nobody)\s" <<<"$status" || fail "the helper does not run as nobody: $(grep Uid <<<"$status")"
grep -Eq "^Seccomp:\s+2" <<<"$status" || fail "the helper has no seccomp filter"
grep -Eq "^CapEff:\s+0+$" <<<"$status" || fail "the helper has capabilities"
log "RADIUS helper $hpid: uid nobody, seccomp filter, no capabilities"
stop_client a1 INT

# A wrong password.
start_client w1 "$NS_C1" alice wrong-pw
expect_refused w1 "a wrong RADIUS password"
wait_output 10 grep -F '"reason":"RADIUS: Access-Reject' "$AUDIT" >/dev/null ||
	fail "no audit record of the Access-Reject"
[ "$(ban_score "$CLI_IP1")" = 10 ] || fail "the Access-Reject scored $(ban_score "$CLI_IP1") ban points, not 10"

# bob: the reply's address, route, DNS and timeouts.
export VPNC_ENV_LOG=$WORK/vpnc-env-bob
start_client b1 "$NS_C1" bob bob-pw -v
ip=$(wait_tunnel b1 20) || fail "no tunnel for bob"
unset VPNC_ENV_LOG
[ "$ip" = 198.19.0.77 ] || fail "bob got $ip, not his Framed-IP-Address"
for h in "X-CSTP-Split-Include: 198.18.50.0/24" "X-CSTP-DNS: 198.18.0.53" \
	"X-CSTP-Idle-Timeout: 600" "X-CSTP-Session-Timeout: 3600" "X-CSTP-Address-IP6: fd00:19::"; do
	client_has b1 "$h" || fail "bob's client did not get '$h'"
done
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 2) || fail "no traffic for bob: $out"
log "bob: Framed-IP-Address $ip, Framed-Route, DNS, timeouts and an address from Framed-IPv6-Prefix applied"
stop_client b1 INT

# dan: the speed limits (kbit/s) as bandwidth limits (bytes/s).
start_client d1 "$NS_C1" dan dan-pw
wait_tunnel d1 20 >/dev/null || fail "no tunnel for dan"
json=$(ctl --json show user dan)
[ "$(jq -r '.[0]["Limit RX"]' <<<"$json")" = 100000 ] && [ "$(jq -r '.[0]["Limit TX"]' <<<"$json")" = 200000 ] ||
	fail "dan's limits: $json"
stop_client d1 INT

# quota_ends USER WHAT: USER's session ends with "quota exceeded" once 60 pings of 1000
# bytes each way (120000 bytes, three times the quota) went through.
quota_ends()
{
	local ip srv
	start_client "q-$1" "$NS_C1" "$1" "$1-pw"
	ip=$(wait_tunnel "q-$1" 20) || fail "no tunnel for $1"
	srv=$(server_tun_ip "$ip") || fail "no server address for $1's tunnel"
	check_addr "$srv"
	ip netns exec "$NS_C1" ping -n -q -c 60 -i 0.05 -s 972 -W 1 "$srv" >/dev/null 2>&1
	wait_client_exit "q-$1" 10
	[ $? = 124 ] && fail "$1's session goes on beyond $2"
	unset "CLIENT_PID[q-$1]"
	server_log_has "session end: .*user=$1 .*reason=quota exceeded " 5 ||
		fail "$1's session did not end with 'quota exceeded'"
	log "$1: $2 ended the session"
}
# quinn: a quota through the group that Class names; rosa: ChilliSpot-Max-Total-Octets.
quota_ends quinn "the quota of the group Class names"
grep -q "session start: .*user=quinn group=metered " "$SERVER_LOG" || fail "Class did not make quinn's group"
quota_ends rosa "ChilliSpot-Max-Total-Octets"

# carol: the challenge's Reply-Message is the second form; the answer goes back with
# the State.
by_hand()
{
	printf '%s\n%s\n' "$2" "$3" | ip netns exec "$NS_C1" timeout 30 openconnect \
		--authenticate --passwd-on-stdin --user "$1" --servercert "$PIN" \
		"$(server_url_for "$NS_C1")" 2>"$WORK/hand-$4.log"
}
out=$(by_hand carol carol-pw 123456 ok) || fail "carol's challenge login failed: $(tail -n 5 "$WORK/hand-ok.log")"
grep -q "^COOKIE=" <<<"$out" || fail "no cookie for carol"
grep -q "Enter your code" "$WORK/hand-ok.log" || fail "the second form did not show the Reply-Message"
by_hand carol carol-pw 654321 bad >/dev/null && fail "a wrong code passed the challenge"
log "carol: Access-Challenge answered on a second form"

# slow: FreeRADIUS holds its answer 10 s; others log in meanwhile.
start_client s1 "$NS_C1" slow slow-pw
sleep 1
start_client a2 "$NS_C2" alice alice-pw
wait_tunnel a2 5 >/dev/null || fail "alice waited for slow's RADIUS answer"
start_client e1 "$NS_C2" erin x -c "$WORK/pki/erin.pem" -k "$WORK/pki/erin.key"
wait_tunnel e1 5 >/dev/null || fail "erin's certificate login waited for slow's RADIUS answer"
kill -0 "${CLIENT_PID[s1]}" 2>/dev/null && [ -z "$(client_addr s1)" ] ||
	fail "slow was answered before the others were up"
log "alice (RADIUS) and erin (certificate) connected while slow's answer was pending"
wait_tunnel s1 20 >/dev/null || fail "slow got no tunnel after FreeRADIUS answered"
stop_client s1 INT
stop_client a2 INT
stop_client e1 INT

# FreeRADIUS gone: a clear failure, not a hang.
radius_stop
before=$(ban_score "$CLI_IP1")
start_client g1 "$NS_C1" alice alice-pw
expect_refused g1 "RADIUS server down"
grep -q "The authentication service did not answer" "${CLIENT_LOG[g1]}" ||
	fail "the client was not told: $(tail -n 3 "${CLIENT_LOG[g1]}")"
wait_output 10 grep -F "RADIUS: no answer from the server" "$AUDIT" >/dev/null ||
	fail "no audit record of the unanswered request"
# The server's silence is not the client's guess: no ban points for it.
[ "$(ban_score "$CLI_IP1")" = "$before" ] ||
	fail "the unanswered login scored ban points: $before before, $(ban_score "$CLI_IP1") after"
pass
