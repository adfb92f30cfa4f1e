#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: sluicectl's interactive shell, typed into through a real pseudo-terminal
# (pty-drive.py) while the real client is logged in. Without a daemon the first command
# says it is not running and the shell goes on; the prompt appears; show events streams
# alice's connect until Ctrl-C, which ends the stream and not the shell; tab completes
# command words ("sho" -> "show ", "show us" -> "show user", a second tab lists "user
# users", "show users" then runs); the up arrow recalls the whole line; an unknown command prints an error and the shell
# goes on; disconnect user alice typed in the shell ends her client; stop now, then a
# command says the daemon is gone; exit and Ctrl-D leave with status 0, also after a
# failed command, and Ctrl-D ends the line.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd python3
it_init
require_ctl
PROMPT='sluicectl> $'
{ mkdir "$WORK/cwd" && touch "$WORK/cwd/alpha-file"; } || fail "cannot create $WORK/cwd"

# start_shell NAME: sluicectl without a command on a new pty in the server namespace,
# driven through the coprocess SH; the raw terminal output goes to $WORK/NAME.pty. Its
# working directory holds one file whose name a file-name completion would offer for
# a user name.
start_shell()
{
	SHELL_NAME=$1
	coproc SH {
		cd "$WORK/cwd" && exec env TERM=xterm python3 "$IT_DIR/pty-drive.py" -l "$WORK/$1.pty" -t 90 -- \
			ip netns exec "$NS_SRV" "$CTL" -s "$SOCK"
	}
	OWN_PIDS+=("$SH_PID")
}

# drive REQUEST: one request to pty-drive.py (see there); its answer in ANSWER.
drive()
{
	ANSWER="no answer from pty-drive.py"
	printf '%s\n' "$*" >&"${SH[1]}" || return 0
	IFS= read -r -t 40 ANSWER <&"${SH[0]}"
}

# type_keys TEXT: types TEXT (pty-drive.py escapes: \t tab, \n enter, \x04 Ctrl-D).
type_keys()
{
	drive send "$1"
	[ "$ANSWER" = ok ] || fail "$SHELL_NAME: cannot type '$1': $ANSWER"
}

# see REGEX WHAT [SECONDS]: the shell printed REGEX (control sequences removed).
see()
{
	drive expect "${3:-10}" "$1"
	[ "$ANSWER" = ok ] || fail "$SHELL_NAME: $2: expected /$1/, $ANSWER"
}

# shell_exits STATUS WHAT: the shell ends within 5 s with exit STATUS.
shell_exits()
{
	drive wait 5
	[ "$ANSWER" = "exit $1" ] || fail "$SHELL_NAME: $2: expected exit $1, $ANSWER"
	eval "exec ${SH[1]}>&-"
	wait "$SH_PID"
}

# No daemon: the first command says so, and the shell goes on.
start_shell nodaemon
see "$PROMPT" "no prompt"
type_keys 'show users\n'
see "sluiced is not running \(no control socket at $SOCK\)" "no 'not running' message"
see "$PROMPT" "no prompt after the refused command"
type_keys 'exit\n'
shell_exits 0 "exit after a refused command"

setup_server
start_shell live
see "$PROMPT" "no prompt"
type_keys 'show events\n'
# The stream is registered before alice connects (the same pause as test-ctl).
sleep 0.5
start_client c1 "$NS_C1" alice alice-pw
ip1=$(wait_tunnel c1 15) || fail "no tunnel for alice"
worker=$(session_worker alice) || fail "no session start line for alice"
log "alice has $ip1 (worker $worker)"
see "connected user 'alice' \($worker\) from .* with IP $ip1" "show events: no connect"
type_keys '\x03'
see "$PROMPT" "Ctrl-C did not end show events"

type_keys 'show users\n'
see "\n$worker +alice .* $ip1 " "show users lacks alice"
see "$PROMPT" "no prompt after show users"

# Completion: a unique word, the common part of "user" and "users", the list on a
# second tab, then the line runs. libedit may draw a completed space as a cursor
# movement, so the spaces are proven by what runs: "sho<TAB>us" is "show us" only if
# the tab added the space.
type_keys 'sho\t'
see 'show' "'sho<TAB>' did not complete to 'show '"
type_keys 'us\t'
see 'user$' "'show us<TAB>' did not complete to 'show user'"
type_keys '\t'
see '\nuser +users *\n' "a second tab did not list 'user users'"
type_keys 's\t\n'
see "\n$worker +alice .* $ip1 " "the completed 'show users' did not run"
see "$PROMPT" "no prompt after the completed command"

# The previous line from the history (up arrow) runs again, whole.
type_keys '\x1b[A'
see 'show users' "the up arrow did not recall 'show users'"
type_keys '\n'
see "\n$worker +alice .* $ip1 " "'show users' from the history did not run"
see "$PROMPT" "no prompt after the command from the history"

type_keys 'frobnicate now\n'
see 'sluicectl: unknown command or wrong arguments' "no error for an unknown command"
see "$PROMPT" "the shell did not go on after an unknown command"
type_keys 'help\n'
see 'disconnect user NAME +end every session of user NAME' "help lacks a command"
see "$PROMPT" "no prompt after help"

type_keys 'disc\t'
see 'disconnect' "'disc<TAB>' did not complete to 'disconnect '"
type_keys 'u\t'
see 'user' "'disconnect u<TAB>' did not complete to 'disconnect user '"
# A name is not completed (no file name either), so the tab leaves "al" as typed.
type_keys 'al\t'
type_keys 'ice\n'
see '\ndisconnected' "disconnect user alice printed no result"
see "$PROMPT" "no prompt after disconnect"
wait_client_exit c1 10
[ $? = 124 ] && fail "openconnect still runs after 'disconnect user alice' in the shell"
unset "CLIENT_PID[c1]"
server_log_has "control command from uid 0: disconnect user alice" 5 ||
	fail "no MEV_CTL line for the shell's disconnect"

# A failed command does not set the shell's exit status.
type_keys 'show user alice\n'
see "$PROMPT" "no prompt after show user of nobody"
type_keys 'exit\n'
shell_exits 0 "exit after a failed command"

# Ctrl-D after a usage error: status 0, and the line is ended for the caller's shell.
start_shell eof
see "$PROMPT" "no prompt"
type_keys 'show\n'
see "$PROMPT" "no prompt after a usage error"
type_keys '\x04'
see '\n' "Ctrl-D did not end the line"
shell_exits 0 "Ctrl-D after a usage error"

# stop now typed in the shell; the next command says the daemon is gone.
start_shell stop
see "$PROMPT" "no prompt"
type_keys 'stop now\n'
see '\nsluiced' "stop now printed no result"
see "$PROMPT" "no prompt after stop now"
for _ in $(seq 1 50); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "sluiced still runs after stop now in the shell"
type_keys 'show status\n'
see "sluiced is not running" "no 'not running' message after stop now"
see "$PROMPT" "no prompt after the refused command"
type_keys 'quit\n'
shell_exits 0 "quit"
pass
