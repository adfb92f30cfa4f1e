#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# A cookie from --authenticate opens a tunnel with -C; after the client is killed
# without logout (SIGKILL) the same cookie reconnects to the same VPN address; after a
# client ends with SIGINT (CSTP DISCONNECT 0xb0) the cookie is rejected.
. "$(dirname "$0")/lib.sh"
it_init
setup_server

cookie=$(get_cookie "$NS_C1" alice alice-pw)
[ -n "$cookie" ] || fail "openconnect --authenticate returned no cookie"
log "cookie obtained (${#cookie} characters)"

start_cookie_client k1 "$NS_C1" "$cookie"
ip1=$(wait_tunnel k1 15) || fail "no tunnel with the cookie"
log "tunnel with the cookie: $ip1"
stop_client k1 KILL

start_cookie_client k2 "$NS_C1" "$cookie"
ip2=$(wait_tunnel k2 15) || fail "cookie not accepted after the client was killed"
log "reconnected after SIGKILL: $ip2"
[ "$ip1" = "$ip2" ] || fail "VPN address changed on reconnect: $ip1 -> $ip2"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip2")" 3) || fail "no traffic after reconnect: $out"

kill -INT "${CLIENT_PID[k2]}"
wait_client_exit k2 10
rc=$?
[ $rc = 124 ] && fail "client did not exit on SIGINT"
grep -q -i "disconnect\|abort" "${CLIENT_LOG[k2]}" || log "note: client log shows no disconnect message"
unset "CLIENT_PID[k2]"
log "client ended with SIGINT (exit $rc)"
sleep 0.5

start_cookie_client k3 "$NS_C1" "$cookie"
wait_client_exit k3 15
rc=$?
[ $rc = 124 ] && fail "client with a logged-out cookie still runs after 15 s"
[ $rc = 0 ] && fail "client with a logged-out cookie exited 0"
[ -z "$(client_addr k3)" ] || fail "logged-out cookie opened a tunnel"
log "cookie rejected after logout (client exit $rc)"
stop_client k3

# persistent-cookies = true (a reload): the cookie survives the logout.
write_config "persistent-cookies = true"
kill -HUP "$SERVER_PID"
server_log_has "configuration reloaded" 5 || fail "the reload did not complete"
cookie=$(get_cookie "$NS_C1" alice alice-pw) || fail "no cookie"
start_cookie_client k4 "$NS_C1" "$cookie"
wait_tunnel k4 15 >/dev/null || fail "no tunnel with the new cookie"
stop_client k4 INT
sleep 0.5
start_cookie_client k5 "$NS_C1" "$cookie"
wait_tunnel k5 15 >/dev/null || fail "persistent-cookies: the cookie did not survive the logout"
stop_client k5
log "persistent-cookies: the cookie reconnects after a logout"
pass
