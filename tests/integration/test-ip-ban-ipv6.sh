#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: IPv6 clients are scored and banned per /64 (ban-ipv6-prefix's default)
# on a dual-stack listener (listen-host = ::). Two wrong logins from fd00:18:0:1::2 ban
# fd00:18:0:1::/64; the client namespace then moves to fd00:18:0:1::3 and is refused
# before TLS, while fd00:18:0:2::2 (another /64) logs in. `show ip bans` lists the
# prefix; an IPv4 client's points stay under its IPv4 address. `unban ip` with another
# address of the prefix lifts the ban, and the prefix itself names the entry too.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
NET6=yes
it_init
require_ctl
SIBLING=fd00:18:0:1::3
check_addr6 $SIBLING
setup_server "listen-host = ::
max-ban-score = 20
ban-points-wrong-password = 10
ban-points-connection = 1
ban-time = 600"
json()
{
	ctl --json "$@" >"$WORK/out.json" || fail "sluicectl --json $* failed"
	jq -e . "$WORK/out.json" >/dev/null || fail "sluicectl --json $*: $(cat "$WORK/out.json")"
}

CLIENT_FAMILY=6
for i in 1 2; do
	start_client "bad$i" "$NS_C1" alice wrong-pw
	expect_refused "bad$i" "wrong password $i from $CLI6_IP1"
done
server_log_has "ban: client=fd00:18:0:1::/64 banned: score 2[0-9] reached max-ban-score 20" 5 ||
	fail "no ban of fd00:18:0:1::/64 logged"
json show ip bans
jq -e 'length == 1 and .[0].IP == "fd00:18:0:1::/64" and .[0].Score >= 20' \
	"$WORK/out.json" >/dev/null || fail "show ip bans: $(cat "$WORK/out.json")"
ctl show ip bans | grep -Eq "^fd00:18:0:1::/64 +[0-9-]+ [0-9:]+ +[0-9-]+ [0-9:]+ +2[0-9]" ||
	fail "plain show ip bans lacks the prefix"
log "fd00:18:0:1::/64 banned after two wrong passwords from $CLI6_IP1"

# Another address of the same /64.
ip -n "$NS_C1" addr del "$CLI6_IP1/64" dev eth0 &&
	ip -n "$NS_C1" addr add "$SIBLING/64" dev eth0 nodad || fail "cannot move to $SIBLING"
start_client sibling "$NS_C1" alice alice-pw
expect_refused sibling "right password from $SIBLING"
server_log_has "connection from $SIBLING \(in fd00:18:0:1::/64\) refused: banned" 5 ||
	fail "no refusal of $SIBLING logged"
grep -q "Connected to HTTPS" "${CLIENT_LOG[sibling]}" && fail "$SIBLING completed a TLS handshake"

start_client other "$NS_C2" alice alice-pw
wait_tunnel other 15 >/dev/null || fail "$CLI6_IP2 (another /64) was refused"
stop_client other
log "$SIBLING refused before TLS, $CLI6_IP2 logs in"

# IPv4 through the dual-stack socket: scored as 198.18.1.2, not ::ffff:198.18.1.2.
CLIENT_FAMILY=4 start_client v4 "$NS_C2" alice wrong-pw
expect_refused v4 "wrong password from $CLI_IP2"
json show ip ban points
jq -e --arg ip "$CLI_IP2" '.[] | select(.IP == $ip and .Score >= 10)' "$WORK/out.json" \
	>/dev/null || fail "no points for $CLI_IP2: $(cat "$WORK/out.json")"
grep -q ffff "$WORK/out.json" && fail "an IPv4-mapped entry: $(cat "$WORK/out.json")"

ctl unban ip fd00:18:0:1::/48 >/dev/null 2>&1
[ $? = 1 ] || fail "unban ip with a /48 did not exit 1"
ctl unban ip fd00::1::2 >/dev/null 2>&1
[ $? = 2 ] || fail "unban ip with a malformed address did not exit 2"
json unban ip fd00:18:0:1::77
server_log_has "unban: client=fd00:18:0:1::/64: unbanned by the operator" 5 ||
	fail "no unban of the prefix logged"
start_client again "$NS_C1" alice alice-pw
wait_tunnel again 15 >/dev/null || fail "$SIBLING still refused after unban ip"
stop_client again
log "unban ip fd00:18:0:1::77 lifted the ban of the /64"

json show ip ban points
jq -e '.[] | select(.IP == "fd00:18:0:1::/64")' "$WORK/out.json" >/dev/null ||
	fail "the new login scored nothing: $(cat "$WORK/out.json")"
json unban ip fd00:18:0:1::/64
json show ip ban points
jq -e 'all(.[]; .IP != "fd00:18:0:1::/64")' "$WORK/out.json" >/dev/null ||
	fail "unban ip fd00:18:0:1::/64 left it: $(cat "$WORK/out.json")"
pass
