#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# max-same-clients = 1: a second concurrent session of the same user is refused while
# the first is connected, and allowed once the first has disconnected. With
# max-same-clients-policy = replace-oldest (sluiced only: bob's per-user file, then the
# global value after a SIGHUP) the second login ends the first session instead: its
# client is told and exits, the log says "replaced by a newer login", its cookie is
# refused, and the second session is up.
. "$(dirname "$0")/lib.sh"
it_init
if [ "$SERVER" = sluiced ]; then
	mkdir -p "$WORK/users"
	echo "max-same-clients-policy = replace-oldest" >"$WORK/users/bob"
	make_certs
	add_user alice alice-pw
	add_user bob bob-pw
	write_config "max-same-clients = 1
config-per-user = $WORK/users"
	start_server
else
	setup_server "max-same-clients = 1"
fi

start_client first "$NS_C1" alice alice-pw
ip1=$(wait_tunnel first 15) || fail "first session refused"
log "first session: $ip1"

start_client second "$NS_C2" alice alice-pw
wait_client_exit second 15
rc=$?
[ $rc = 124 ] && fail "second concurrent session still runs after 15 s"
[ $rc = 0 ] && fail "second concurrent session exited 0"
[ -z "$(client_addr second)" ] || fail "second concurrent session got a tunnel"
kill -0 "${CLIENT_PID[first]}" 2>/dev/null || fail "first session ended"
[ -n "$(client_addr first)" ] || fail "first session lost its tunnel"
log "second concurrent session refused (client exit $rc), first still up"

stop_client first INT
sleep 0.5
start_client third "$NS_C2" alice alice-pw
ip3=$(wait_tunnel third 15) || fail "session refused after the first disconnected"
log "session after the first disconnected: $ip3"
[ "$SERVER" = sluiced ] || pass
stop_client third INT

# replace_oldest USER WHAT: USER's first session, then a second login that replaces it.
replace_oldest()
{
	local user=$1 what=$2 cookie rc ends
	ends=$(grep -c "session end: .*user=$user .*reason=replaced by a newer login " "$SERVER_LOG")
	cookie=$(get_cookie "$NS_C1" "$user" "$user-pw")
	[ -n "$cookie" ] || fail "$what: no cookie for $user's first session"
	start_cookie_client "$user-old" "$NS_C1" "$cookie"
	wait_tunnel "$user-old" 15 >/dev/null || fail "$what: $user's first session refused"
	start_client "$user-new" "$NS_C2" "$user" "$user-pw"
	wait_tunnel "$user-new" 15 >/dev/null || fail "$what: $user's second login refused"
	wait_client_exit "$user-old" 10
	rc=$?
	[ $rc = 124 ] && fail "$what: $user's first client still runs 10 s after the second login"
	unset "CLIENT_PID[$user-old]"
	grep -q "replaced by a newer login" "${CLIENT_LOG[$user-old]}" ||
		fail "$what: $user's first client was not told why"
	server_log_has "session end: .*user=$user .*reason=replaced by a newer login " 5 ||
		fail "$what: no session end 'replaced by a newer login' for $user"
	[ "$(grep -c "session end: .*user=$user .*reason=replaced by a newer login " \
		"$SERVER_LOG")" = $((ends + 1)) ] || fail "$what: more than one session of $user ended"
	kill -0 "${CLIENT_PID[$user-new]}" 2>/dev/null || fail "$what: $user's second session ended"
	[ -n "$(client_addr "$user-new")" ] || fail "$what: $user's second session lost its tunnel"
	start_cookie_client "$user-again" "$NS_C1" "$cookie"
	expect_refused "$user-again" "$what: the replaced session's cookie"
	stop_client "$user-new" INT
	log "$what: $user's second login replaced the first (client exit $rc)," \
		"$(grep -F 'replaced by a newer login' "${CLIENT_LOG[$user-old]}" | head -n 1)"
}

replace_oldest bob "replace-oldest in bob's file"

# The global policy, reloaded.
sed -i '$a max-same-clients-policy = replace-oldest' "$SERVER_CONF"
kill -HUP "$SERVER_PID"
server_log_has "configuration reloaded" 10 || fail "no reload after SIGHUP"
replace_oldest alice "replace-oldest, global after a reload"
pass
