#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Without -c and without /etc/sluice/sluiced.conf, sluiced starts from its built-in
# configuration: it says so, generates a self-signed certificate into its state
# directory (key mode 0600) and authenticates users from /etc/sluice/passwd. The
# server runs in a private mount namespace with empty tmpfs over /etc/sluice and
# /var/lib/sluice, so the host's files are never touched. Only authentication is
# tested: the built-in pool is not in the test address range.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd unshare
it_init
made_dirs=()
for d in /etc/sluice /var/lib/sluice; do
	[ -d $d ] || { mkdir -p $d && made_dirs+=($d); }
done
trap 'rc=$?; for d in "${made_dirs[@]}"; do rmdir "$d" 2>/dev/null; done; (exit $rc); cleanup' EXIT

PASSWD_FILE=$WORK/passwd
add_user dora dora-pw
SERVER_LOG=$WORK/server.log
ip netns exec "$NS_SRV" unshare -m --propagation private bash -c '
	mount -t tmpfs -o mode=0755 tmpfs /etc/sluice &&
	mount -t tmpfs -o mode=0700 tmpfs /var/lib/sluice &&
	cp "$1" /etc/sluice/passwd && exec "$2" -f' _ "$PASSWD_FILE" "$(server_bin)" \
	>>"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
server_log_has "sluiced ready" 15 || fail "sluiced did not start from the built-in configuration"
server_log_has "using the built-in default configuration" 1 || fail "no log line about the built-in configuration"
state=/proc/$SERVER_PID/root/var/lib/sluice
[ -s $state/server-cert.pem ] || fail "no generated certificate in the state directory"
[ "$(stat -c %a $state/server-key.pem)" = 600 ] || fail "the generated key is not mode 0600"
[ -e /var/lib/sluice/server-key.pem ] && fail "the key was written outside the test's mount namespace"
PIN=$(compute_pin $state/server-cert.pem)

cookie=$(get_cookie "$NS_C1" dora dora-pw) || fail "login against the built-in configuration failed"
[ -n "$cookie" ] || fail "no cookie"
get_cookie "$NS_C1" dora wrong-pw >/dev/null && fail "a wrong password was accepted"
log "built-in configuration: certificate generated, user dora authenticated"
pass
