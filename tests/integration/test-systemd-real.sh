#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the shipped contrib/systemd units under a real systemd. systemd-nspawn
# boots this machine's own tree (an overlay on a bind of /, all changes discarded) with
# the server namespace as its network; the units go in unmodified, a drop-in only points
# ExecStart at the installed binary. sluiced.socket holds TCP and UDP 443; the first
# openconnect connection starts sluiced.service, which must report READY with a STATUS
# line, create its TUN device and workers under every hardening option of the unit, pass
# RELOADING then READY on `systemctl reload`, and on `systemctl stop` send STOPPING, keep
# the session for server-drain-ms and exit 0.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd systemd-nspawn nsenter unshare journalctl
[ -x /lib/systemd/systemd ] || skip "no /lib/systemd/systemd"
it_init

UNITS=$top_srcdir/contrib/systemd
CT_PID=
CT_INIT=

# The container: stopped through nspawn (poweroff inside), bounded; if nspawn does not
# end it, its init is killed while nspawn still holds that PID. The bind of / lives in
# nspawn's own mount namespace only.
# shellcheck disable=SC2317 # called from the EXIT trap
stop_container()
{
	[ -n "$CT_PID" ] || return 0
	kill -TERM "$CT_PID" 2>/dev/null
	for _ in $(seq 1 150); do
		kill -0 "$CT_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$CT_PID" 2>/dev/null; then
		[ -n "$CT_INIT" ] && kill -KILL "$CT_INIT" 2>/dev/null
		kill -KILL "$CT_PID" 2>/dev/null
	fi
	{ wait "$CT_PID"; } 2>/dev/null
	CT_PID=
}

# ct COMMAND...: runs COMMAND inside the container (its namespaces, its systemd).
ct() { nsenter -t "$CT_INIT" -a "$@"; }

# What systemd said about the units and what sluiced logged (its stdout lines are not
# always attributed to the unit, so they are matched by identifier too).
# shellcheck disable=SC2317 # called from the EXIT trap
ct_journal()
{
	[ -n "$CT_INIT" ] || return 0
	echo "----- journal of the container: sluiced -----"
	ct journalctl -q -o short-monotonic UNIT=sluiced.service + UNIT=sluiced.socket + \
		_SYSTEMD_UNIT=sluiced.service + SYSLOG_IDENTIFIER=sluiced |
		grep -v -E 'Got message type|Sent message type' | tail -n 80
}
trap 'rc=$?; [ "$rc$TEST_FAILED" = 00 ] || [ "$rc" = 77 ] || ct_journal; stop_container
(exit $rc); cleanup' EXIT

# show PROPERTY [UNIT]: one property of a unit, as systemctl show --value prints it.
show() { ct systemctl show -p "$1" --value "${2:-sluiced.service}"; }

# wait_prop PROPERTY VALUE SECONDS: waits (bounded) until sluiced.service's PROPERTY is VALUE.
wait_prop()
{
	for _ in $(seq 1 $(($3 * 10))); do
		[ "$(show "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# journal_has REGEX SECONDS JOURNALCTL-MATCH...: waits (bounded) for a journal line.
journal_has()
{
	local re=$1 limit=$2
	shift 2
	for _ in $(seq 1 $((limit * 10))); do
		ct journalctl -q -o cat "$@" 2>/dev/null | grep -Eq -- "$re" && return 0
		sleep 0.1
	done
	return 1
}

# logged REGEX: a line sluiced wrote (within 5 s).
logged() { journal_has "$1" 5 SYSLOG_IDENTIFIER=sluiced; }

# notified REGEX: a notify message from sluiced as systemd logs it (at debug level),
# "Got notification message from PID N (READY=1, STATUS=...)" (within 5 s).
notified() { journal_has "Got notification message from PID [0-9]+ \\($1" 5 -u sluiced.service; }

# notify_order: the READY/RELOADING/STOPPING messages systemd got, in order.
notify_order()
{
	ct journalctl -q -o cat -u sluiced.service |
		grep -Eo 'Got notification message from PID [0-9]+ \((READY|RELOADING|STOPPING)=1' |
		grep -Eo '[A-Z]+=1' | tr '\n' ' '
}

# Files the container sees as /etc/sluice (read-only): configuration, passwords, keys.
ETC=$WORK/etc
mkdir -p "$ETC"
PASSWD_FILE=$ETC/passwd
make_certs
mv "$WORK/pki" "$ETC/pki"
add_user alice alice-pw
# The paths the unit provides (RuntimeDirectory, StateDirectory) and the installed layout.
write_config "auth = \"plain[passwd=/etc/sluice/passwd]\"
server-cert = /etc/sluice/pki/server.pem
server-key = /etc/sluice/pki/server.key
socket-file = /run/sluiced/sluiced.sock
occtl-socket-file = /run/sluiced/ctl.sock
pid-file = /run/sluiced/sluiced.pid
worker-path = /usr/local/libexec/sluice-worker
server-drain-ms = 2000"
cp "$SERVER_CONF" "$ETC/sluiced.conf"
mkdir -p "$WORK/sluiced.service.d"
cat >"$WORK/sluiced.service.d/test.conf" <<-EOF
	[Service]
	ExecStart=
	ExecStart=/usr/local/sbin/sluiced -f -c /etc/sluice/sluiced.conf
EOF
# The test's own boot target: nothing but what sluiced's units pull in.
printf '[Unit]\nDescription=sluice test boot target\n' >"$WORK/sluice-test.target"

SYS=/etc/systemd/system
CT_LOG=$WORK/container.log
mkdir -p "$WORK/root"
# nspawn keeps CAP_NET_ADMIN only when asked (TUN devices, addresses, routes).
# timesyncd is enabled on the host; inside it would only try to reach NTP servers.
# shellcheck disable=SC2016 # the inner shell expands $1 and $@
unshare --mount --propagation private sh -c 'mount --bind / "$1" && shift && exec "$@"' \
	sh "$WORK/root" \
	systemd-nspawn --quiet --console=read-only --register=no --keep-unit \
	--machine="$RUN_ID" -D "$WORK/root" --volatile=overlay -b \
	--network-namespace-path="/run/netns/$NS_SRV" --capability=CAP_NET_ADMIN \
	--bind-ro="$ETC:/etc/sluice" \
	--bind-ro="$top_builddir/src/sluiced:/usr/local/sbin/sluiced" \
	--bind-ro="$top_builddir/src/sluice-worker:/usr/local/libexec/sluice-worker" \
	--bind-ro="$top_builddir/src/sluicectl:/usr/local/bin/sluicectl" \
	--bind-ro="$UNITS/sluiced.service:$SYS/sluiced.service" \
	--bind-ro="$UNITS/sluiced.socket:$SYS/sluiced.socket" \
	--bind-ro="$WORK/sluiced.service.d:$SYS/sluiced.service.d" \
	--bind-ro="$WORK/sluice-test.target:$SYS/sluice-test.target" \
	-- systemd.unit=sluice-test.target systemd.mask=systemd-timesyncd.service \
	</dev/null >"$CT_LOG" 2>&1 &
CT_PID=$!
for _ in $(seq 1 200); do
	kill -0 "$CT_PID" 2>/dev/null || fail "systemd-nspawn exited: $(tail -n 5 "$CT_LOG")"
	CT_INIT=$(pgrep -P "$CT_PID" -x systemd)
	[ -n "$CT_INIT" ] && [ "$(ct systemctl is-system-running 2>/dev/null)" = running ] && break
	sleep 0.1
done
[ "$(ct systemctl is-system-running 2>/dev/null)" = running ] ||
	fail "the container's systemd is not running after 20 s: $(tail -n 5 "$CT_LOG")"
log "systemd $(ct systemctl --version | head -n 1 | cut -d' ' -f2) is PID 1 of the container (host PID $CT_INIT)"
# systemd logs each notify message it accepts at debug level.
ct systemctl log-level debug || fail "cannot raise the container's systemd log level"

ct systemctl start sluiced.socket || fail "sluiced.socket does not start"
[ "$(show ActiveState sluiced.socket)" = active ] || fail "sluiced.socket is not active"
[ "$(show ActiveState)" = inactive ] || fail "sluiced.service runs before any connection"
ip netns exec "$NS_SRV" ss -Hlnu "sport = :$PORT" | grep -q . || fail "systemd holds no UDP $PORT"

# The first connection starts the service; TLS and DTLS both go through systemd's sockets.
CLIENT_DTLS=yes
start_client c1 "$NS_C1" alice alice-pw
ip=$(wait_tunnel c1 20) || fail "no tunnel through the socket-activated listener"
suite=$(wait_dtls c1 15) || fail "no DTLS through the passed UDP socket"
log "tunnel $ip, DTLS $suite"
[ "$(show ActiveState)" = active ] || fail "sluiced.service is $(show ActiveState)"
[ "$(show NotifyAccess)" = main ] || fail "NotifyAccess is $(show NotifyAccess)"
logged 'socket activation: TCP port 443 and UDP' ||
	fail "sluiced did not take the sockets of sluiced.socket"
notified 'READY=1, STATUS=0 sessions\)' || fail "systemd got no READY=1 with STATUS"
wait_prop StatusText "1 session" 5 || fail "StatusText is '$(show StatusText)', not '1 session'"
srv=$(server_tun_ip "$ip") || fail "no server side of the tunnel"
ping_through "$NS_C1" "$srv" 5 >/dev/null || fail "no traffic through the tunnel"

# Under the hardening of the unit: the bounding set is the unit's (CHOWN DAC_OVERRIDE
# KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_ADMIN), systemd's seccomp filters
# (address families, W^X, namespaces...) are loaded, / is read-only, the TUN device
# exists, and the session has its worker beside main and sec, which may open
# LimitNOFILE= descriptors (soft limit included). sec has emptied every capability set,
# the bounding set too, and runs under its own filter on top of systemd's.
# DevicePolicy= is not checked: nspawn does not delegate the cgroup v1 devices
# controller, so systemd cannot apply it here.
main_pid=$(show MainPID)
# shellcheck disable=SC2016 # an awk program
cap=$(ct awk '$1 == "CapBnd:" { print $2 }' "/proc/$main_pid/status")
[ "$cap" = 00000000000015e3 ] || fail "sluiced's bounding set is $cap, not the unit's"
ct grep -q '^Seccomp:[[:space:]]*2$' "/proc/$main_pid/status" || fail "sluiced runs without seccomp"
sec=$(ct sluicectl --json show status | jq -r '."Sec-mod PID" // empty')
[ -n "$sec" ] || fail "sluicectl names no sec PID"
# shellcheck disable=SC2016 # an awk program
sec_caps=$(ct awk '$1 ~ /^Cap(Inh|Prm|Eff|Bnd|Amb):$/ && $2 != "0000000000000000"' \
	"/proc/$sec/status")
[ -z "$sec_caps" ] || fail "sec keeps capabilities under the unit: $sec_caps"
# shellcheck disable=SC2016 # an awk program
[ "$(ct awk '$1 == "Seccomp_filters:" { print $2 }' "/proc/$sec/status")" -gt \
	"$(ct awk '$1 == "Seccomp_filters:" { print $2 }' "/proc/$main_pid/status")" ] ||
	fail "sec has no seccomp filter of its own"
ct nsenter -t "$main_pid" -m sh -c ': >/usr/sluice-write-test' 2>/dev/null &&
	fail "ProtectSystem=strict is not in effect"
ip -n "$NS_SRV" -o link show type tun | grep -q vpns || fail "no TUN device in the server namespace"
# LimitNOFILE= as far as the container's own hard limit allows it (systemd in there
# cannot go beyond that), with the soft limit at the hard one.
unit_nofile=$(show LimitNOFILE)
[ "$unit_nofile" -ge 65536 ] || fail "LimitNOFILE= of the unit is only $unit_nofile"
ct_nofile=$(awk '/^Max open files/ { print $5 }' "/proc/$CT_INIT/limits")
# shellcheck disable=SC2016 # an awk program
read -r soft nofile <<<"$(ct awk '/^Max open files/ { print $4, $5 }' "/proc/$main_pid/limits")"
[ "$nofile" = "$((unit_nofile < ct_nofile ? unit_nofile : ct_nofile))" ] ||
	fail "sluiced's hard descriptor limit is $nofile; LimitNOFILE= $unit_nofile, container $ct_nofile"
[ "$soft" = "$nofile" ] || fail "sluiced's soft descriptor limit $soft is not its hard one, $nofile"
procs=$(ct cat "/sys/fs/cgroup/systemd$(show ControlGroup)/cgroup.procs" | wc -l)
[ "$procs" -ge 3 ] || fail "sluiced.service holds $procs processes, not main, sec and a worker"
users=$(ct sluicectl --json show users | jq -r '.[].Username') || fail "sluicectl show users failed"
[ "$users" = alice ] || fail "sluicectl lists '$users', not alice"
log "main $main_pid, $procs processes, CapBnd $cap, $nofile descriptors"
log "sec $sec: no capabilities, a seccomp filter of its own"

# Reload: RELOADING=1 then READY=1; the session survives.
ct systemctl reload sluiced.service || fail "systemctl reload failed"
notified 'RELOADING=1\)' || fail "systemd got no RELOADING=1"
logged 'configuration reloaded' || fail "sluiced did not reload"
[ "$(notify_order)" = "READY=1 RELOADING=1 READY=1 " ] ||
	fail "notify messages: '$(notify_order)', not READY, RELOADING, READY"
wait_prop ActiveState active 5 || fail "sluiced.service is $(show ActiveState) after reload"
[ "$(show MainPID)" = "$main_pid" ] || fail "sluiced restarted instead of reloading"
ping_through "$NS_C1" "$srv" 3 >/dev/null || fail "the session did not survive the reload"

# Stop: STOPPING=1; the session keeps working for server-drain-ms, then ends; exit 0.
ct systemctl --no-block stop sluiced.service || fail "systemctl stop failed"
notified 'STOPPING=1\)' || fail "systemd got no STOPPING=1"
[ "$(show ActiveState)" = deactivating ] || fail "sluiced.service is $(show ActiveState) while draining"
ping_through "$NS_C1" "$srv" 2 >/dev/null || fail "the session ended before server-drain-ms"
wait_prop ActiveState inactive 10 || fail "sluiced.service is $(show ActiveState) 10 s after stop"
[ "$(show Result)" = success ] || fail "sluiced.service result is $(show Result)"
[ "$(show ExecMainStatus)" = 0 ] || fail "sluiced exited with status $(show ExecMainStatus)"
[ "$(notify_order)" = "READY=1 RELOADING=1 READY=1 STOPPING=1 " ] ||
	fail "notify messages: '$(notify_order)'"
logged 'server-drain-ms over' || fail "sluiced did not drain"
wait_client_exit c1 10
[ $? = 124 ] && fail "the client still runs after the server stopped"
unset "CLIENT_PID[c1]"
grep -q 'Session terminated by server' "${CLIENT_LOG[c1]}" ||
	fail "the client was not told that the session ended"
[ "$(show ActiveState sluiced.socket)" = active ] || fail "sluiced.socket ended with the service"
ct systemctl stop sluiced.socket || fail "sluiced.socket does not stop"
# sluiced's stderr, and its workers', is the container's journal here: a copy in WORK for
# sanitizer_check.
ct journalctl -q -o cat _SYSTEMD_UNIT=sluiced.service >"$WORK/journal-sluiced.log"
pass "systemd $(ct systemctl --version | head -n 1 | cut -d' ' -f2)"
