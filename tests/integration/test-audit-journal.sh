#!/bin/bash
# shellcheck disable=SC2016 # $cli, $vpn, $sid and $j in the filters are jq's.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the audit records reach a real systemd-journald with their structured
# fields. No systemd runs as PID 1 here (nor in CI), so the test runs in a private mount
# namespace with a tmpfs over /run, starts its own journald there (volatile storage, no
# kernel or audit input, nothing forwarded) and sluiced beside it; sd_journal_sendv()
# finds /run/systemd/journal/socket as on a systemd host. One wrong password, a login
# with traffic and a disconnect must leave auth failure and success, session start and
# end records whose SLUICE_* fields hold user, group, client address and port, method,
# reason, session id, VPN address, device, user agent, duration and byte counts.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_env
require_cmd jq journalctl unshare mount
JOURNALD=/lib/systemd/systemd-journald
[ -x "$JOURNALD" ] || skip "no $JOURNALD (Debian package systemd)"

# Everything below, the network namespaces' /run/netns included, lives in this mount
# namespace: its /run vanishes with it and the host's journal sockets are never touched.
if [ -z "${SLUICE_IT_PRIVATE_RUN:-}" ]; then
	unshare --mount true 2>/dev/null || skip "cannot create a mount namespace"
	SLUICE_IT_PRIVATE_RUN=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
mount -t tmpfs -o mode=0755,size=64m sluice-run /run || fail "cannot mount a tmpfs over /run"
# journald exits at once without a machine id; a container may ship an empty one.
if ! grep -qxE '[0-9a-f]{32}' /etc/machine-id 2>/dev/null; then
	[ -f /etc/machine-id ] || skip "no /etc/machine-id to stand in for"
	tr -d '-' </proc/sys/kernel/random/uuid >/run/machine-id
	mount --bind /run/machine-id /etc/machine-id || fail "cannot bind a machine id"
fi

it_init
make_certs
add_user alice alice-pw staff
write_config

JOURNAL_DIR=/run/log/journal
mkdir -p /run/systemd/journald.conf.d
cat >/run/systemd/journald.conf.d/sluice-test.conf <<-EOF
	[Journal]
	Storage=volatile
	RuntimeMaxUse=16M
	ReadKMsg=no
	Audit=no
	ForwardToSyslog=no
	ForwardToKMsg=no
	ForwardToConsole=no
	ForwardToWall=no
	RateLimitBurst=0
EOF
SYSTEMD_LOG_TARGET=console timeout 300 "$JOURNALD" >"$WORK/journald.log" 2>&1 &
JOURNALD_PID=$!
OWN_PIDS+=("$JOURNALD_PID")
for _ in $(seq 1 50); do
	[ -S /run/systemd/journal/socket ] && [ -d "$JOURNAL_DIR" ] && break
	kill -0 "$JOURNALD_PID" 2>/dev/null || break
	sleep 0.1
done
[ -S /run/systemd/journal/socket ] ||
	fail "journald did not start: $(tr '\n' ' ' <"$WORK/journald.log")"
log "journald started (pid $JOURNALD_PID)"
start_server

# jqt FILTER: jq with the test's values ($cli, $vpn, $sid) and its definitions: num
# (journalctl gives every value as a string), native (sent by main itself, not by the
# syslog fallback, with the fallback's facility authpriv).
jqt()
{
	jq -c --arg cli "$CLI_IP1" --arg vpn "${vpn_ip:-}" --arg sid "${sid:-}" \
		--arg pid "$SERVER_PID" 'def num: test("^[0-9]+$");
		def native: ._TRANSPORT == "journal" and ._PID == $pid and .SYSLOG_FACILITY == "10";
		'"$1"
}

# journal EVENT [JQ-FILTER]: sluiced's audit records of one kind that pass the filter,
# one JSON object per line.
journal()
{
	journalctl --directory="$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=sluiced \
		"SLUICE_EVENT=$1" 2>/dev/null | jqt "select(${2:-true})"
}

# fields: the SLUICE_* fields of a record, for the test's log.
fields() { jq -c 'with_entries(select(.key | startswith("SLUICE_")))'; }

wait_journal() { wait_output 5 journal "$@"; }

start_client bad "$NS_C1" alice wrong-pw
expect_refused bad "a wrong password"
wait_journal auth '.SLUICE_RESULT == "failure"' || fail "no auth failure in the journal"
log "$(journal auth '.SLUICE_RESULT == "failure"' | head -n 1 | fields)"
journal auth '.SLUICE_RESULT == "failure" and .SLUICE_USER == "alice" and
	.SLUICE_CLIENT_IP == $cli and (.SLUICE_CLIENT_PORT | num) and
	.SLUICE_CLIENT_PORT != "0" and .SLUICE_METHOD == "password" and
	(.SLUICE_REASON | length) > 0 and .PRIORITY == "4" and native' | grep -q . ||
	fail "the auth failure lacks user, client address and port, method or reason"

# A user agent is any bytes, not always UTF-8 as JSON text must be: the records keep it.
start_client c1 "$NS_C1" alice alice-pw --useragent $'Open AnyConnect VPN Agent caf\xe9'
vpn_ip=$(wait_tunnel c1 15) || fail "no tunnel for alice"
srv_ip=$(server_tun_ip "$vpn_ip") || fail "no server tunnel address"
out=$(ping_through "$NS_C1" "$srv_ip" 5 -s 1000) || fail "no traffic through the tunnel: $out"
wait_journal auth '.SLUICE_RESULT == "success"' || fail "no auth success in the journal"
journal auth '.SLUICE_RESULT == "success" and .SLUICE_USER == "alice" and
	.SLUICE_CLIENT_IP == $cli and .SLUICE_METHOD == "password" and
	.PRIORITY == "5" and native' | grep -q . || fail "the auth success is incomplete"
wait_journal session-start || fail "no session start in the journal"
start=$(journal session-start | tail -n 1)
log "$(fields <<<"$start")"
jqt '(.SLUICE_SESSION_ID | length) > 0 and .SLUICE_USER == "alice" and
	.SLUICE_GROUP == "staff" and .SLUICE_CLIENT_IP == $cli and .SLUICE_VPN_IP == $vpn and
	(.SLUICE_DEVICE | startswith("vpns")) and
	.SLUICE_USER_AGENT == "Open AnyConnect VPN Agent caf?" and native' <<<"$start" | grep -qx true ||
	fail "the session start lacks session id, user, group, addresses, device or user agent"
sid=$(jq -r .SLUICE_SESSION_ID <<<"$start")

stop_client c1
wait_journal session-end '.SLUICE_SESSION_ID == $sid' || fail "no session end in the journal"
end=$(journal session-end '.SLUICE_SESSION_ID == $sid')
log "$(fields <<<"$end")"
# Five 1028-byte pings each way at least.
jqt '.SLUICE_USER == "alice" and .SLUICE_GROUP == "staff" and .SLUICE_VPN_IP == $vpn and
	.SLUICE_REASON == "user disconnected" and (.SLUICE_DURATION | num) and
	(.SLUICE_BYTES_IN | num) and (.SLUICE_BYTES_OUT | num) and
	(.SLUICE_BYTES_IN | tonumber) >= 5140 and (.SLUICE_BYTES_OUT | tonumber) >= 5140 and
	native' <<<"$end" | grep -qx true ||
	fail "the session end lacks user, reason, duration or byte counts"

# Every member of each record's JSON text (the MESSAGE syslog readers get) is also a
# field of its own with the same value: nothing truncated, renamed or left out.
n=0
while read -r rec; do
	jq -e '. as $j | .MESSAGE | ltrimstr("audit ") | fromjson | to_entries |
		all(.[]; $j["SLUICE_" + (.key | ascii_upcase)] == (.value | tostring))' \
		<<<"$rec" >/dev/null || fail "fields differ from the message: $rec"
	n=$((n + 1))
done < <(journalctl --directory="$JOURNAL_DIR" --no-pager -o json SYSLOG_IDENTIFIER=sluiced |
	jq -c 'select(.SLUICE_EVENT)')
[ "$n" -ge 4 ] || fail "only $n audit records in the journal"
pass "$n audit records in journald with all their fields (session $sid)"
