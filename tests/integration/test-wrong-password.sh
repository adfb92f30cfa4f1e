#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# A wrong password is refused; repeated wrong passwords end the attempt after
# auth-tries (3) tries; the right password still works afterwards.
. "$(dirname "$0")/lib.sh"
it_init
setup_server

start_client bad "$NS_C1" alice wrong-pw
wait_client_exit bad 15
rc=$?
[ $rc = 124 ] && fail "client with a wrong password still runs after 15 s"
[ $rc = 0 ] && fail "client with a wrong password exited 0"
[ -z "$(client_addr bad)" ] || fail "tunnel configured despite a wrong password"
log "single wrong password refused (client exit $rc)"
if [ "$SERVER" = sluiced ]; then
	server_log_has "auth failed: user=alice client=$CLI_IP1:[0-9]+ reason=" ||
		fail "no 'auth failed' line for alice"
fi

# Without --non-inter the client answers every new password form from stdin; it is
# offered six wrong passwords, and the server must stop it after three.
fails_before=$(grep -c "auth failed: user=alice" "$SERVER_LOG")
ip netns exec "$NS_C1" timeout 20 openconnect --script "$VPNC_SCRIPT" --passwd-on-stdin \
	--user alice --servercert "$PIN" --no-dtls --interface ocr "https://$SRV_IP1:$PORT/" \
	<<<$'w1\nw2\nw3\nw4\nw5\nw6' >"$WORK/retries.log" 2>&1
rc=$?
[ $rc = 124 ] && fail "client offered six wrong passwords was not stopped within 20 s"
[ $rc = 0 ] && fail "client with wrong passwords exited 0"
posts=$(grep -c '^POST ' "$WORK/retries.log")
log "six wrong passwords offered: client exit $rc after $posts POST requests"
# init + username form + 3 passwords at most; an unlimited server would take all six.
[ "$posts" -le 5 ] || fail "server accepted $posts auth requests (auth-tries = 3)"
if [ "$SERVER" = sluiced ]; then
	sleep 0.5
	fails=$(($(grep -c "auth failed: user=alice" "$SERVER_LOG") - fails_before))
	log "sluiced logged $fails 'auth failed' lines for the six-password client"
	[ "$fails" = 3 ] || fail "expected 3 'auth failed' lines, got $fails"
fi

start_client good "$NS_C1" alice alice-pw
wait_tunnel good 15 >/dev/null || fail "right password refused after wrong ones"
log "right password accepted afterwards"
pass
