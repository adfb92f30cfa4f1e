#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# main names a worker that died of SIGSYS (what the seccomp filter does to a
# forbidden system call) a sandbox violation, accounts its session and keeps serving.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server

start_client a "$NS_C1" alice alice-pw
wait_tunnel a 20 >/dev/null || fail "tunnel did not come up"
worker=$(session_worker alice) || fail "no session start line for alice"
kill -SYS "$worker"
server_log_has "worker $worker killed by SIGSYS: sandbox violation" 5 ||
	fail "main did not name the SIGSYS death a sandbox violation"
server_log_has "session end: .* reason=worker died worker=$worker" 5 || fail "session end not logged"
kill -0 "$SERVER_PID" || fail "sluiced exited"
start_client b "$NS_C1" alice alice-pw
wait_tunnel b 20 >/dev/null || fail "no new login after the worker's death"
pass
