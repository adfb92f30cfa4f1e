#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# SIGHUP reloads the configuration without dropping a session: a broken file is
# rejected with its reason and the running configuration stays; a changed reloadable
# key (banner, max-same-clients) applies to the next login; a changed tcp-port is
# named in a warning and the old port stays.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server
start_client a "$NS_C1" alice alice-pw
ip=$(wait_tunnel a 20) || fail "tunnel did not come up"
grep -q "sluice integration test" "${CLIENT_LOG[a]}" || fail "client a did not see the banner"
srv=$(server_tun_ip "$ip") || fail "no server side of the tunnel"
cp "$SERVER_CONF" "$WORK/good.conf"

# 1. A broken file: rejected, the old configuration and the session stay.
echo "keepalive = forever" >>"$SERVER_CONF"
kill -HUP "$SERVER_PID"
server_log_has "configuration reload rejected: .*keepalive" 5 ||
	fail "no 'reload rejected' line naming the broken key"
kill -0 "$SERVER_PID" || fail "sluiced died of SIGHUP"
out=$(ping_through "$NS_C1" "$srv" 3) || fail "the session did not survive a rejected reload: $out"
start_client b "$NS_C2" alice alice-pw
wait_tunnel b 15 >/dev/null || fail "login refused after a rejected reload"
grep -q "sluice integration test" "${CLIENT_LOG[b]}" || fail "the old banner is gone"
stop_client b INT
log "broken file rejected; old configuration and session kept"

# 2. A reloadable key and a key that needs a restart.
sed -e 's/^banner = .*/banner = "reloaded banner"/' -e "s/^tcp-port = .*/tcp-port = 8443/" \
	"$WORK/good.conf" >"$SERVER_CONF"
kill -HUP "$SERVER_PID"
server_log_has "configuration reloaded" 5 || fail "no 'configuration reloaded' line"
server_log_has "key 'tcp-port' cannot change at runtime" 5 || fail "no warning about tcp-port"
grep -q "key 'banner' cannot change" "$SERVER_LOG" && fail "banner was treated as fixed"
ip netns exec "$NS_SRV" ss -Hltn "sport = :$PORT" | grep -q LISTEN || fail "old port closed"
ip netns exec "$NS_SRV" ss -Hltn "sport = :8443" | grep -q LISTEN && fail "listens on 8443"
start_client c "$NS_C2" alice alice-pw
wait_tunnel c 15 >/dev/null || fail "login refused after the reload"
grep -q "reloaded banner" "${CLIENT_LOG[c]}" || fail "the next login did not get the new banner"
grep -q "reloaded banner" "${CLIENT_LOG[a]}" && fail "the live session saw the new banner"
out=$(ping_through "$NS_C1" "$srv" 3) || fail "the session did not survive the reload: $out"
log "banner reloaded for the next login; tcp-port kept; live session still pings"
stop_client c INT

# 3. A value sec enforces: max-same-clients = 1 refuses alice's second session from
# now on, while her live one goes on.
sed -e "s/^max-same-clients = .*/max-same-clients = 1/" "$WORK/good.conf" >"$SERVER_CONF"
kill -HUP "$SERVER_PID"
server_log_has "new connections use the certificate of generation 2" 5 ||
	fail "the third reload did not complete"
start_client d "$NS_C2" alice alice-pw
expect_refused d "a second session after max-same-clients = 1"
out=$(ping_through "$NS_C1" "$srv" 3) || fail "the session did not survive the reload: $out"
log "max-same-clients reloaded in sec; live session still pings"

# 4. pre-login-banner: on the login form, while banner comes after the login.
sed -e 's/^banner = .*/banner = "after the login"/' "$WORK/good.conf" >"$SERVER_CONF"
echo 'pre-login-banner = "read this before you log in"' >>"$SERVER_CONF"
kill -HUP "$SERVER_PID"
server_log_has "new connections use the certificate of generation 3" 5 ||
	fail "the fourth reload did not complete"
stop_client a INT
start_client e "$NS_C2" alice alice-pw -v
wait_tunnel e 15 >/dev/null || fail "no tunnel after the pre-login-banner reload"
grep -q "^read this before you log in" "${CLIENT_LOG[e]}" || fail "the login form did not show pre-login-banner"
grep -q "^after the login" "${CLIENT_LOG[e]}" && fail "the login form showed banner as well"
grep -q "X-CSTP-Banner: after%20the%20login" "${CLIENT_LOG[e]}" || fail "banner was not sent after the login"
log "pre-login-banner on the login form, banner after the login"
pass
