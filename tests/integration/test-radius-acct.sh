#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: acct = "radius[config=FILE,nas-identifier=NAME]" against a real FreeRADIUS
# 3.2 (tests/integration/radius.sh), whose detail file the test reads:
# - alice (a password-file login): Start when her tunnel is up, Interim-Updates every
#   stats-report-time, and on disconnect a Stop with User-Request, her session id (the
#   sid of sluiced's log), and the byte counts of the audit file's session-end record;
# - bob's worker killed with SIGKILL: a Stop (NAS-Error) all the same;
# - dave's session ended by his session-quota-bytes: Stop with Session-Timeout; erin's
#   first session replaced by her second login (replace-oldest): Stop with
#   Port-Preempted;
# - carol still connected when sluiced stops: her Stop (Admin-Reboot) is sent before
#   sluiced exits;
# - the accounting helper runs as nobody under its seccomp filter.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/radius.sh"
require_sluiced
require_cmd jq
it_init
require_ctl
make_certs
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
add_user dave dave-pw
add_user erin erin-pw
mkdir -p "$WORK/users"
echo "session-quota-bytes = 20000" >"$WORK/users/dave"
printf 'max-same-clients = 1\nmax-same-clients-policy = replace-oldest\n' >"$WORK/users/erin"
radius_start
radius_client_config 3 1
AUDIT=$WORK/audit.json
write_config "acct = \"radius[config=$RADCLI_CONF,nas-identifier=sluice-acct]\"
stats-report-time = 2
config-per-user = $WORK/users
audit-log = $AUDIT"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) || fail "sluiced -t: $out"
start_server

# sid USER: the session id of USER's newest "session start" line.
sid()
{
	sed -n "s/.*session start: sid=\([0-9a-f]*\) user=$1 .*/\1/p" "$SERVER_LOG" | tail -n 1
}

start_client a1 "$NS_C1" alice alice-pw
ip=$(wait_tunnel a1 20) || fail "no tunnel for alice"
A=$(sid alice)
[ -n "$A" ] || fail "no session id for alice in the log"
radius_detail_has "Acct-Session-Id = \"$A\"" 10 || fail "no Start for alice's session $A"
[ "$(radius_acct_value Start User-Name "$A")" = alice ] || fail "the Start is not alice's"
[ "$(radius_acct_value Start Framed-IP-Address "$A")" = "$ip" ] || fail "the Start has not her address $ip"
[ "$(radius_acct_value Start NAS-Identifier "$A")" = sluice-acct ] || fail "no NAS-Identifier"
[ "$(radius_acct_value Start Calling-Station-Id "$A")" = "$CLI_IP1" ] || fail "no Calling-Station-Id"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 5) || fail "no traffic: $out"
wait_output 10 radius_acct_value Interim-Update Acct-Input-Octets "$A" >/dev/null ||
	fail "no Interim-Update for alice within 10 s (stats-report-time 2)"
log "alice: Start and Interim-Update for session $A"
stop_client a1 INT
radius_detail_has "Acct-Terminate-Cause = User-Request" 10 || fail "no Stop for alice"
in=$(radius_acct_value Stop Acct-Input-Octets "$A") || fail "no Stop for session $A"
outb=$(radius_acct_value Stop Acct-Output-Octets "$A")
pkts=$(radius_acct_value Stop Acct-Input-Packets "$A")
t=$(radius_acct_value Stop Acct-Session-Time "$A")
[ "$(radius_acct_value Stop Acct-Terminate-Cause "$A")" = User-Request ] || fail "alice's Stop cause"
rec=$(wait_output 10 jq -c --arg s "$A" 'select(.event == "session-end" and .session_id == $s)' "$AUDIT") ||
	fail "no session-end record for $A"
rec=$(jq -c --arg s "$A" 'select(.event == "session-end" and .session_id == $s)' "$AUDIT")
[ "$in" = "$(jq -r .bytes_in <<<"$rec")" ] && [ "$outb" = "$(jq -r .bytes_out <<<"$rec")" ] ||
	fail "the Stop's octets ($in in, $outb out) are not the audit record's: $rec"
[ "$in" -ge 420 ] && [ "$pkts" -ge 5 ] && [ "$t" -ge 0 ] ||
	fail "the Stop's counts look wrong: $in octets, $pkts packets, $t s"
log "alice's Stop: $in octets in, $outb out, $pkts packets in, $t s, User-Request"

# bob's worker killed: main still sends his Stop, from the TUN device.
start_client b1 "$NS_C1" bob bob-pw
wait_tunnel b1 20 >/dev/null || fail "no tunnel for bob"
B=$(sid bob)
pid=$(session_worker bob) || fail "no worker for bob"
kill -KILL "$pid"
wait_output 15 radius_acct_value Stop Acct-Terminate-Cause "$B" >/dev/null || fail "no Stop after bob's worker was killed"
[ "$(radius_acct_value Stop Acct-Terminate-Cause "$B")" = NAS-Error ] ||
	fail "bob's Stop cause: $(radius_acct_value Stop Acct-Terminate-Cause "$B")"
stop_client b1 KILL
log "bob's worker killed: Stop with NAS-Error"

# dave's quota (20000 bytes): 30 pings of 1000 bytes each way go beyond it.
start_client d1 "$NS_C1" dave dave-pw
ip=$(wait_tunnel d1 20) || fail "no tunnel for dave"
D=$(sid dave)
srv=$(server_tun_ip "$ip") || fail "no server address for dave's tunnel"
check_addr "$srv"
ip netns exec "$NS_C1" ping -n -q -c 30 -i 0.05 -s 972 -W 1 "$srv" >/dev/null 2>&1
wait_output 15 radius_acct_value Stop Acct-Terminate-Cause "$D" >/dev/null || fail "no Stop for dave"
[ "$(radius_acct_value Stop Acct-Terminate-Cause "$D")" = Session-Timeout ] ||
	fail "dave's Stop cause: $(radius_acct_value Stop Acct-Terminate-Cause "$D")"
grep -q "session end: sid=$D .*reason=quota exceeded " "$SERVER_LOG" || fail "dave's session did not end by its quota"
stop_client d1 KILL
log "dave's quota: Stop with Session-Timeout"

# erin's second login replaces her first session.
start_client e1 "$NS_C1" erin erin-pw
wait_tunnel e1 20 >/dev/null || fail "no tunnel for erin"
E=$(sid erin)
start_client e2 "$NS_C2" erin erin-pw
wait_tunnel e2 20 >/dev/null || fail "no tunnel for erin's second login"
wait_output 15 radius_acct_value Stop Acct-Terminate-Cause "$E" >/dev/null || fail "no Stop for erin's first session"
[ "$(radius_acct_value Stop Acct-Terminate-Cause "$E")" = Port-Preempted ] ||
	fail "erin's Stop cause: $(radius_acct_value Stop Acct-Terminate-Cause "$E")"
stop_client e1 KILL
stop_client e2 INT
log "erin's replaced session: Stop with Port-Preempted"

# The accounting helper: nobody, seccomp, no capabilities.
hpid=$(sed -n 's/.*accounting helper started (pid \([0-9]*\)).*/\1/p' "$SERVER_LOG" | head -n 1)
[ -n "$hpid" ] || fail "no accounting helper in the log"
status=$(cat "/proc/$hpid/status") || fail "the accounting helper $hpid is gone"
grep -Eq "^Uid:\s+$(id -u nobody)\s" <<<"$status" && grep -Eq "^Seccomp:\s+2" <<<"$status" &&
	grep -Eq "^CapEff:\s+0+$" <<<"$status" || fail "the accounting helper is not confined: $status"

# carol is connected when sluiced stops: her Stop goes out first.
start_client c1 "$NS_C2" carol carol-pw
wait_tunnel c1 20 >/dev/null || fail "no tunnel for carol"
C=$(sid carol)
radius_detail_has "Acct-Session-Id = \"$C\"" 10 || fail "no Start for carol"
stop_server
[ "$(radius_acct_value Stop Acct-Terminate-Cause "$C")" = Admin-Reboot ] ||
	fail "no Stop (Admin-Reboot) for carol when sluiced stopped"
grep -q "accounting: all [0-9]* records sent" "$SERVER_LOG" || fail "sluiced did not say the records were sent"
log "sluiced stopped: carol's Stop sent before it exited ($(grep -o 'accounting: all [0-9]* records sent' "$SERVER_LOG"))"
pass
