#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: a connected client's worker runs as nobody/nogroup (real, effective,
# saved and filesystem IDs), under a seccomp filter, with no_new_privs, and is the
# sluice-worker binary. The worker template that forks every worker is no more
# privileged: nobody/nogroup, no capability, no_new_privs, not dumpable (it has no
# seccomp filter of its own: it never reads client bytes, and each worker installs
# one).
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server

start_client c1 "$NS_C1" alice alice-pw
wait_tunnel c1 15 >/dev/null || fail "no tunnel for alice"
worker=$(session_worker alice) || fail "no session start line for alice"
[ -n "$worker" ] && [ -r "/proc/$worker/status" ] || fail "worker '$worker' not found"
[ "$(awk '{ print $4 }' "/proc/$worker/stat")" = "$SERVER_PID" ] ||
	fail "worker $worker is not a child of sluiced $SERVER_PID"

uid=$(id -u nobody)
gid=$(getent group nogroup | cut -d: -f3)
status=$(cat "/proc/$worker/status")
log "worker $worker: $(grep -E '^(Uid|Gid|Seccomp|NoNewPrivs):' <<<"$status" | tr '\n\t' '  ')"
grep -qx "Uid:	$uid	$uid	$uid	$uid" <<<"$status" || fail "worker Uid is not $uid x4"
grep -qx "Gid:	$gid	$gid	$gid	$gid" <<<"$status" || fail "worker Gid is not $gid x4"
grep -qx "Seccomp:	2" <<<"$status" || fail "worker has no seccomp filter"
grep -qx "NoNewPrivs:	1" <<<"$status" || fail "worker lacks no_new_privs"
exe=$(tr '\0' '\n' <"/proc/$worker/cmdline" | head -n 1)
[ "$(basename "$exe")" = sluice-worker ] || fail "worker command line is '$exe'"
expect_unprivileged worker "$worker"

tpl=$(template_pid)
[ -n "$tpl" ] || fail "no worker template process"
expect_unprivileged "worker template" "$tpl"
pass
