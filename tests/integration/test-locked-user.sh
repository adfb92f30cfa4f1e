#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# A user locked in the password file (-l) is refused; unlocked (-u) is accepted.
. "$(dirname "$0")/lib.sh"
it_init
make_certs
add_user alice alice-pw
add_user bob bob-pw
lock_user bob
grep -q '^bob:[^:]*:!' "$PASSWD_FILE" || fail "lock did not mark bob's hash"
write_config
start_server

start_client locked "$NS_C1" bob bob-pw
wait_client_exit locked 15
rc=$?
[ $rc = 124 ] && fail "locked user's client still runs after 15 s"
[ $rc = 0 ] && fail "locked user's client exited 0"
[ -z "$(client_addr locked)" ] || fail "locked user got a tunnel"
log "locked user bob refused (client exit $rc)"

unlock_user bob
start_client unlocked "$NS_C1" bob bob-pw
ip=$(wait_tunnel unlocked 15) || fail "unlocked user bob refused"
log "unlocked user bob accepted, VPN address $ip"
pass
