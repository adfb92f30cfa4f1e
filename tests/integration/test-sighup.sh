#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# SIGHUP (what ocserv operators send to reload) does not end sluiced or its sessions:
# sluiced says that it does not reload yet and keeps serving.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server
start_client a "$NS_C1" alice alice-pw
ip=$(wait_tunnel a 20) || fail "tunnel did not come up"
kill -HUP "$SERVER_PID"
server_log_has "SIGHUP: sluiced does not reload its configuration yet" 5 || fail "no log line about SIGHUP"
kill -0 "$SERVER_PID" || fail "sluiced died of SIGHUP"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 3) || fail "the session did not survive SIGHUP: $out"
pass
