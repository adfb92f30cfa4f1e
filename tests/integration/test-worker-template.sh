#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Workers are forked by the worker template and re-parented to sluiced, which reaps
# them; the template, like its workers, runs as run-as-user (nobody/nogroup) with
# no_new_privs and no capability, so no process named sluice-worker is root; when the
# template dies, sluiced says so and exec's workers instead; with worker-template =
# false there is no template at all.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
setup_server

tpl=$(template_pid)
[ -n "$tpl" ] || fail "no worker template process"
expect_unprivileged "worker template" "$tpl"
start_client a "$NS_C1" alice alice-pw
wait_tunnel a 20 >/dev/null || fail "no tunnel through a templated worker"
worker=$(session_worker alice) || fail "no session start line"
[ "$(awk '{print $4}' /proc/$worker/stat)" = "$SERVER_PID" ] || fail "worker $worker is not sluiced's child"
expect_unprivileged worker "$worker"
# No sluice-worker process of this server runs as root.
for p in $(descendants "$SERVER_PID"); do
	[ "$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | head -n 1)" = sluice-worker ] || continue
	awk '$1 == "Uid:" { for (i = 2; i <= 5; i++) if ($i == 0) r = 1 } END { exit r }' \
		"/proc/$p/status" || fail "sluice-worker process $p has a root uid"
done
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
