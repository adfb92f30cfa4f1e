#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Workers are forked by the worker template and re-parented to sluiced, which reaps
# them; when the template dies, sluiced says so and exec's workers instead; with
# worker-template = false there is no template at all.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server

template_pid()
{
	local p
	for p in $(pgrep -P "$SERVER_PID"); do
		[ "$(tr -d '\0' </proc/$p/cmdline)" = sluice-worker--template ] && echo "$p"
	done
}

tpl=$(template_pid)
[ -n "$tpl" ] || fail "no worker template process"
start_client a "$NS_C1" alice alice-pw
wait_tunnel a 20 >/dev/null || fail "no tunnel through a templated worker"
worker=$(session_worker alice) || fail "no session start line"
[ "$(awk '{print $4}' /proc/$worker/stat)" = "$SERVER_PID" ] || fail "worker $worker is not sluiced's child"
stop_client a

kill -KILL "$tpl"
server_log_has "worker template: .*; workers are exec'd from now on" 5 ||
	fail "sluiced did not notice the template's death"
start_client b "$NS_C1" alice alice-pw
wait_tunnel b 20 >/dev/null || fail "no login after the template died"
stop_client b
stop_server

SERVER_LOG=$WORK/server2.log
write_config "worker-template = false"
start_server
[ -z "$(template_pid)" ] || fail "a template runs with worker-template = false"
start_client c "$NS_C1" alice alice-pw
wait_tunnel c 20 >/dev/null || fail "no login with exec'd workers"
pass
