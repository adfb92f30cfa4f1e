#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the running sec process (its PID from sluicectl) has no capability in
# any set, no-new-privs and its own seccomp filter, and serves under them: a password
# login with a per-user file and traffic, a wrong password, a reconnect with a cookie,
# a reload with a new certificate and key; a key file of another owner is refused on
# reload (root without CAP_DAC_OVERRIDE), the current key stays. sec is the same
# process at the end, still filtered, and it never fell to its filter.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
it_init
require_ctl

NOCAPS=0000000000000000

# check_sec: /proc/PID/status of sec as the kernel shows it.
check_sec()
{
	local status
	status=$(cat "/proc/$sec/status") || fail "sec ($sec) is gone"
	log "sec $sec: $(grep -E '^(Uid|Cap[A-Za-z]+|NoNewPrivs|Seccomp):' <<<"$status" | tr '\n\t' '  ')"
	grep -qx "Seccomp:	2" <<<"$status" || fail "sec has no seccomp filter"
	grep -qx "NoNewPrivs:	1" <<<"$status" || fail "sec lacks no_new_privs"
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		grep -qx "$set:	$NOCAPS" <<<"$status" ||
			fail "sec's $set is not empty: $(grep "^$set:" <<<"$status")"
	done
	grep -qx "Uid:	0	0	0	0" <<<"$status" || fail "sec does not run as root"
}

mkdir -p "$WORK/users"
echo "route = 198.18.100.0/24" >"$WORK/users/alice"
chmod 0600 "$WORK/users/alice"
setup_server "config-per-user = $WORK/users"
sec=$(ctl --json show status | jq -r '."Sec-mod PID" // empty')
[ -n "$sec" ] && [ "$(awk '{ print $4 }' "/proc/$sec/stat")" = "$SERVER_PID" ] ||
	fail "sec's PID '$sec' is not a child of sluiced $SERVER_PID"
check_sec

start_client a "$NS_C1" alice alice-pw
ip=$(wait_tunnel a 20) || fail "password login failed"
srv=$(server_tun_ip "$ip") || fail "no server side of the tunnel"
ping_through "$NS_C1" "$srv" 2 >/dev/null || fail "no traffic through the tunnel"
ctl --json show user alice | jq -e '.[0].Routes == ["198.18.100.0/24"]' >/dev/null ||
	fail "alice's per-user file was not applied: $(ctl --json show user alice)"
stop_client a INT
log "password login with alice's per-user file (0600): tunnel pings"

start_client bad "$NS_C1" alice wrong-pw
expect_refused bad "a wrong password"

cookie=$(get_cookie "$NS_C1" alice alice-pw) && [ -n "$cookie" ] || fail "no cookie"
start_cookie_client c "$NS_C1" "$cookie"
wait_tunnel c 20 >/dev/null || fail "reconnect with the cookie failed"
stop_client c INT
log "reconnect with a cookie"

make_certs # a new key and certificate over the same files
kill -HUP "$SERVER_PID"
server_log_has "new connections use the certificate of generation 1" 5 ||
	fail "sec did not take the new key"
start_client b "$NS_C1" alice alice-pw
wait_tunnel b 20 >/dev/null || fail "login with the new certificate failed"
stop_client b INT
log "reload with a new certificate and key"

# A key that root does not own and may not read by its mode: with all capabilities
# gone sec cannot read it, and keeps the key it has.
cp "$SERVER_KEY" "$WORK/nobody.key"
chown nobody "$WORK/nobody.key"
chmod 0600 "$WORK/nobody.key"
write_config "config-per-user = $WORK/users
server-key = $WORK/nobody.key"
kill -HUP "$SERVER_PID"
server_log_has "server-key $WORK/nobody.key: Permission denied" 5 ||
	fail "sec read a key file of another owner"
start_client d "$NS_C1" alice alice-pw
wait_tunnel d 20 >/dev/null || fail "login failed after the refused key"
stop_client d INT
log "a key file of another owner is refused; the current key stays"

[ "$(ctl --json show status | jq -r '."Sec-mod PID"')" = "$sec" ] || fail "sec was restarted"
check_sec
grep -E "sec (exited|killed)|sandbox violation|refused to sign" "$SERVER_LOG" &&
	fail "sec left its contract"
pass
