#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluicectl's state-changing commands with a real client: after two wrong logins with
# max-ban-score = 20 the client's address shows in `show ip bans` (and `show ip ban
# points`); `unban ip` lifts the ban (ban-time is long) and the client logs in at once;
# `reload` with a broken file exits 1 and names the bad key, with a valid changed file
# exits 0 and the next login sees the change. Every --json passes jq; each command is
# recorded with the caller's uid.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
require_ctl
json_ok()
{
	# shellcheck disable=SC2068 # the command is several words
	ctl --json $@ >"$WORK/out.json" || fail "sluicectl --json $* failed"
	jq -e . "$WORK/out.json" >/dev/null || fail "sluicectl --json $*: invalid JSON: $(cat "$WORK/out.json")"
}

setup_server "max-ban-score = 20
ban-points-wrong-password = 10
ban-points-connection = 1
ban-time = 600"
json_ok show ip bans
jq -e 'length == 0' "$WORK/out.json" >/dev/null || fail "bans before any login: $(cat "$WORK/out.json")"

# Bans.
for i in 1 2; do
	start_client "bad$i" "$NS_C1" alice wrong-pw
	expect_refused "bad$i" "wrong password $i"
done
server_log_has "ban: client=$CLI_IP1 banned" 5 || fail "no ban logged for $CLI_IP1"
json_ok show ip bans
jq -e --arg ip "$CLI_IP1" '.[] | select(.IP == $ip and .Score >= 20 and (.Since | length) > 0
	and .raw_expires > .raw_since)' "$WORK/out.json" >/dev/null ||
	fail "show ip bans --json lacks $CLI_IP1: $(cat "$WORK/out.json")"
json_ok show ip ban points
jq -e --arg ip "$CLI_IP1" '.[] | select(.IP == $ip and .Score >= 20)' "$WORK/out.json" \
	>/dev/null || fail "show ip ban points --json lacks $CLI_IP1: $(cat "$WORK/out.json")"
ctl show ip bans >"$WORK/bans.txt" || fail "show ip bans failed"
grep -Eq "^ip +since +expires +score" "$WORK/bans.txt" || fail "no table head: $(cat "$WORK/bans.txt")"
grep -Eq "^$CLI_IP1 +[0-9-]+ [0-9:]+ +[0-9-]+ [0-9:]+ +2[0-9]" "$WORK/bans.txt" ||
	fail "plain show ip bans lacks $CLI_IP1: $(cat "$WORK/bans.txt")"
start_client banned "$NS_C1" alice alice-pw
expect_refused banned "right password from the banned address"
log "$CLI_IP1 listed in show ip bans and refused"

ctl unban ip 198.51.100.77 >/dev/null 2>&1
[ $? = 1 ] || fail "unbanning an address not listed did not exit 1"
ctl unban ip not-an-address >/dev/null 2>&1
[ $? = 2 ] || fail "unban ip with a bad address did not exit 2"
json_ok unban ip "$CLI_IP1"
jq -e '.ok' "$WORK/out.json" >/dev/null || fail "unban --json: $(cat "$WORK/out.json")"
server_log_has "control command from uid 0: unban ip $CLI_IP1" 5 || fail "no MEV_CTL line for unban"
server_log_has "unban: client=$CLI_IP1: unbanned by the operator" 5 || fail "no unban event"
start_client again "$NS_C1" alice alice-pw
wait_tunnel again 15 >/dev/null || fail "$CLI_IP1 still refused after unban ip"
json_ok show ip bans
jq -e 'length == 0' "$WORK/out.json" >/dev/null || fail "still banned: $(cat "$WORK/out.json")"
log "unban ip lifted the ban; $CLI_IP1 logs in at once"

# Reload.
cp "$SERVER_CONF" "$WORK/good.conf"
echo "keepalive = forever" >>"$SERVER_CONF"
ctl reload >"$WORK/reload-bad.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "reload of a broken file exited $rc, expected 1"
grep -q "keepalive" "$WORK/reload-bad.out" || fail "reload does not say why: $(cat "$WORK/reload-bad.out")"
server_log_has "control command from uid 0: reload" 5 || fail "no MEV_CTL line for reload"
sed -e 's/^banner = .*/banner = "reloaded by sluicectl"/' "$WORK/good.conf" >"$SERVER_CONF"
json_ok reload
jq -e '.ok' "$WORK/out.json" >/dev/null || fail "reload --json: $(cat "$WORK/out.json")"
server_log_has "configuration reloaded" 5 || fail "no 'configuration reloaded' line"
start_client new "$NS_C2" alice alice-pw
wait_tunnel new 15 >/dev/null || fail "login refused after the reload"
grep -q "reloaded by sluicectl" "${CLIENT_LOG[new]}" || fail "the next login did not get the new banner"
log "reload: broken file rejected with its reason (exit 1); valid file applied (exit 0)"
pass
