#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# The connect script's environment against ocserv's: the same configuration, client
# (a mobile one, so that the device variables are set) and script on Debian's ocserv
# and on sluiced; every variable ocserv gives the script must be given by sluiced too,
# unless it is listed below as an intended difference. Values that must agree (the
# user, the group, the client's address, the routes) are compared too.
. "$(dirname "$0")/lib.sh"
require_cmd jq
[ -x /usr/sbin/ocserv ] || fail "ocserv missing (Debian: apt-get install ocserv)"
it_init

# ocserv's variables sluice leaves out on purpose, with the reason (none now).
declare -A INTENDED=()
# Variables of the shell and of how each server runs the script, not of the session.
IGNORE='^(PWD|SHLVL|_|OLDPWD|PATH|LANG|LC_.*|HOME|TERM|SERVER|INVOCATION_ID|JOURNAL_STREAM|SYSTEMD_EXEC_PID|NOTIFY_SOCKET)$'

SCRIPT=$WORK/connect.sh
printf '#!/bin/sh\nenv >"%s/env-${0##*/}-$REASON"\nexit 0\n' "$WORK" >"$SCRIPT"
chmod 755 "$SCRIPT"

run() # NAME: start the server, connect and disconnect a client, stop the server
{
	ln -sf "$SCRIPT" "$WORK/$1"
	write_config "connect-script = $WORK/$1
disconnect-script = $WORK/$1
route = 198.18.60.0/24
dns = 198.18.0.53"
	start_server
	start_client c "$NS_C1" alice alice-pw --os=android
	wait_tunnel c 20 >/dev/null || fail "no tunnel on $SERVER"
	stop_client c
	for i in $(seq 1 50); do
		[ -s "$WORK/env-$1-disconnect" ] && break
		sleep 0.1
	done
	stop_server
}
make_certs
add_user alice alice-pw
SERVER=ocserv run ocserv
SERVER_LOG=$WORK/sluiced.log
run sluice

# What the test itself runs with is inherited, not the session's (ocserv passes its
# whole environment on; sluiced gives scripts a clean one).
env | cut -d= -f1 | sort -u >"$WORK/inherited"
names() { cut -d= -f1 "$WORK/env-$1-$2" | grep -Ev "$IGNORE" | sort -u | comm -23 - "$WORK/inherited"; }
# ocserv ends its lists with a space; sluiced does not.
value() { sed -n "s/^$3=//p" "$WORK/env-$1-$2" | sed 's/ *$//'; }
bugs=0
for reason in connect disconnect; do
	[ -s "$WORK/env-ocserv-$reason" ] || fail "ocserv's $reason script did not run"
	[ -s "$WORK/env-sluice-$reason" ] || fail "sluiced's $reason script did not run"
	while read -r v; do
		if [ -n "${INTENDED[$v]:-}" ]; then
			log "$reason: $v left out on purpose: ${INTENDED[$v]}"
		else
			log "$reason: ocserv's $v missing in sluiced ($(value ocserv $reason "$v"))"
			bugs=$((bugs + 1))
		fi
	done < <(comm -23 <(names ocserv $reason) <(names sluice $reason))
	for v in REASON USERNAME IP_REAL IP_REAL_LOCAL DEVICE_TYPE DEVICE_PLATFORM OCSERV_ROUTES \
		OCSERV_ROUTES4 OCSERV_DNS OCSERV_DNS4 VHOST USER_AGENT; do
		[ "$(value ocserv $reason $v)" = "$(value sluice $reason $v)" ] ||
			fail "$reason: $v is '$(value sluice $reason $v)', ocserv's '$(value ocserv $reason $v)'"
	done
	extra=$(comm -13 <(names ocserv $reason) <(names sluice $reason) | paste -sd, -)
	[ -z "$extra" ] || log "$reason: sluiced's own: $extra"
done
[ $bugs = 0 ] || fail "$bugs variable(s) of ocserv missing in sluiced's scripts"
pass "the scripts get every variable ocserv gives them (intended differences listed)"
