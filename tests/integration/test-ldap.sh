#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: auth = ldap against a real OpenLDAP slapd (tests/integration/ldap.sh) in
# the server's namespace, through libldap in sec's auth helpers:
# - sluiced -t: the service account's password file must be readable; ldap-starttls =
#   false is warned about;
# - alice over ldap:// and StartTLS, her groups from departmentNumber: with no choice the
#   first (staff) with its per-group file; the LDAP helper runs as run-as-user (nobody),
#   without capabilities, with no-new-privs, under its seccomp filter;
# - a wrong password: refused, audited, scored; dave (disabled) left out by a user
#   filter with LDAP_ENABLED_FILTER; the names * and star* are unknown users (escaped in
#   the filter) while star*user(1) and back\slash log in; an empty password is refused
#   before any bind;
# - on the login form, engineering for alice and admins for bob, admins refused to alice;
# - ldap-required-group admins with ldap-group-filter (groupOfNames): alice refused,
#   bob admitted;
# - ldaps:// after a server that refuses (failover), groups from memberOf (DNs);
# - a server certificate from another CA: refused over StartTLS and ldaps:// with a clear
#   reason; a server by name (the namespace's /etc/hosts): in clear text with
#   ldap-starttls = false, refused over ldaps:// (the certificate names 127.0.0.1);
# - slapd stopped with SIGSTOP: refused after ldap-timeout, "did not answer"; slapd gone:
#   "did not answer", no ban points.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ldap.sh"
require_sluiced
require_cmd jq
it_init
require_ctl
make_certs
make_other_ca other
ldap_start

mkdir -p "$WORK/groups"
echo "route = 198.18.60.0/24" >"$WORK/groups/staff"
echo "route = 198.18.61.0/24" >"$WORK/groups/admins"
echo "route = 198.18.62.0/24" >"$WORK/groups/engineering"
AUDIT=$WORK/audit.json

# ldap_config [LINES]: the test's configuration, LINES replacing the keys they name.
ldap_config()
{
	local base
	# ban-reset-time at its longest: 1000 points drain over a week, so that the scores
	# the test compares do not move while it runs.
	base="auth = ldap
ldap-uri = $LDAP_URI
ldap-base = $LDAP_BASE
ldap-bind-dn = $LDAP_BIND_DN
ldap-bind-password-file = $LDAP_BIND_PW_FILE
ldap-user-filter = \"(&(uid=%s)$LDAP_ENABLED_FILTER)\"
ldap-group-attribute = departmentNumber
ldap-ca-cert = $LDAP_CA
ldap-timeout = 4
auth-helper-timeout = 10
config-per-group = $WORK/groups
audit-log = $AUDIT
max-ban-score = 1000
ban-reset-time = 604800
ban-points-wrong-password = 10
ban-points-connection = 0"
	write_config "$(awk -v ov="${1:-}" '
		function key(l) { sub(/[ \t]*=.*/, "", l); sub(/^[ \t]*/, "", l); return l }
		BEGIN { n = split(ov, o, "\n"); for (i = 1; i <= n; i++) if (o[i] != "") skip[key(o[i])] = 1 }
		!(key($0) in skip) { print }
		END { for (i = 1; i <= n; i++) if (o[i] != "") print o[i] }' <<<"$base")"
}
restart() { stop_server; ldap_config "${1:-}"; start_server; }
# The groups the login form offers.
CHOICE="select-group = staff
select-group = admins
select-group = engineering"
client_has() { grep -qF -- "$2" "${CLIENT_LOG[$1]}"; }
# ban_score IP: the ban points of a client address (0 when it has none).
ban_score()
{
	ctl --json show ip ban points | jq -r --arg ip "$1" '[.[] | select(.IP == $ip) | .Score] | first // 0'
}
# audit_mark: from now on audit_reason sees only newer records.
AUDIT_MARK=0
audit_mark() { AUDIT_MARK=$(cat "$AUDIT" 2>/dev/null | wc -l); }
# audit_reason USER: the reason of USER's failed login recorded since audit_mark (waits
# for it, bounded).
audit_reason()
{
	local r i
	for i in $(seq 1 50); do
		r=$(tail -n +$((AUDIT_MARK + 1)) "$AUDIT" 2>/dev/null | jq -rs --arg u "$1" '[.[] |
			select(.event == "auth" and .result == "failure" and .user == $u) |
			.reason] | last // empty')
		[ -n "$r" ] && break
		sleep 0.1
	done
	echo "$r"
}
# refused NAME USER PASSWORD WHAT [options...]: a login that must fail; its audit
# record's reason is then in REASON.
refused()
{
	local name=$1 user=$2 pass=$3 what=$4
	shift 4
	audit_mark
	start_client "$name" "$NS_C1" "$user" "$pass" "$@"
	expect_refused "$name" "$what"
	REASON=$(audit_reason "$user")
	log "$what: $REASON"
}
# session NAME USER GROUP: the client's tunnel comes up, and sluicectl shows USER's
# session as an LDAP login in GROUP.
session()
{
	local json
	wait_tunnel "$1" 20 >/dev/null || fail "no tunnel for $2"
	json=$(ctl --json show user "$2") || fail "sluicectl show user $2"
	[ "$(jq -r '.[0].Authentication' <<<"$json")" = ldap ] || fail "$2: Authentication is not ldap: $json"
	[ "$(jq -r '.[0].Groupname' <<<"$json")" = "$3" ] || fail "$2: the group is not $3: $json"
}

# sluiced -t reads what the helper will read as root, and says when passwords go in
# clear text.
ldap_config "ldap-bind-password-file = $WORK/no-such-file"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) && fail "sluiced -t took a missing password file"
grep -q "key 'ldap-bind-password-file': cannot read" <<<"$out" || fail "unclear error: $out"
ldap_config "ldap-starttls = false"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) || fail "sluiced -t: $out"
grep -q "passwords go to the ldap:// servers of ldap-uri in clear text" <<<"$out" ||
	fail "no warning about ldap-starttls = false: $out"
ldap_config
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) || fail "sluiced -t: $out"
start_server

# alice over StartTLS: her first departmentNumber is her group, with its file.
start_client a1 "$NS_C1" alice alice-pw -v
session a1 alice staff
client_has a1 "X-CSTP-Split-Include: 198.18.60.0/24" || fail "staff's file did not apply"
log "alice: LDAP login over StartTLS, group staff (departmentNumber) with its file"

# The helper: run-as-user, no capability, no-new-privs, not dumpable, seccomp.
hpid=$(sed -n 's/.*auth helper started (pid \([0-9]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
[ -n "$hpid" ] || fail "no auth helper in the log"
status=$(cat "/proc/$hpid/status") || fail "the helper $hpid is gone"
nobody=$(id -u nobody)
grep -qx "Uid:	$nobody	$nobody	$nobody	$nobody" <<<"$status" ||
	fail "the helper does not run as nobody: $(grep Uid <<<"$status")"
for f in CapPrm CapEff; do
	grep -Eqx "$f:\s+0+" <<<"$status" || fail "the helper has capabilities: $(grep "$f" <<<"$status")"
done
grep -Eqx 'NoNewPrivs:\s+1' <<<"$status" || fail "the helper lacks no_new_privs"
grep -Eqx 'Seccomp:\s+2' <<<"$status" || fail "the helper has no seccomp filter"
[ "$(stat -c %u "/proc/$hpid/mem")" = 0 ] || fail "the helper is dumpable"
log "LDAP helper $hpid: uid nobody, no capabilities, no_new_privs, seccomp filter"
stop_client a1 INT

# A wrong password: refused, audited, scored.
before=$(ban_score "$CLI_IP1")
refused w1 alice wrong-pw "a wrong LDAP password"
[ "$REASON" = "LDAP: wrong password" ] || fail "a wrong password: $REASON"
[ "$(ban_score "$CLI_IP1")" = $((before + 10)) ] || fail "the wrong password scored no ban points"

# dave's password is right, but the user filter leaves the disabled account out.
refused d1 dave dave-pw "dave (employeeType: disabled)"
[ "$REASON" = "LDAP: unknown user" ] || fail "dave: $REASON"

# Filter metacharacters in a user name match only themselves: unescaped, * would find
# every user (more than one entry) and star* the star user, whose password this is.
refused s1 '*' alice-pw "the user name *"
[ "$REASON" = "LDAP: unknown user" ] || fail "*: $REASON"
refused s2 'star*' star-pw "the user name star*"
[ "$REASON" = "LDAP: unknown user" ] || fail "star*: $REASON"
start_client s3 "$NS_C1" 'star*user(1)' star-pw
wait_tunnel s3 20 >/dev/null || fail "no tunnel for star*user(1)"
stop_client s3 INT
start_client s4 "$NS_C1" 'back\slash' back-pw
wait_tunnel s4 20 >/dev/null || fail "no tunnel for back\\slash"
stop_client s4 INT
log "star*user(1) and back\\slash log in"

# An empty password never reaches the directory (a bind with it would be anonymous and
# succeed).
refused e1 alice '' "an empty password"
[ "$REASON" = "LDAP: empty password" ] || fail "an empty password: $REASON"

# A group chosen on the form must be one of the user's.
restart "$CHOICE"
start_client a2 "$NS_C1" alice alice-pw --authgroup engineering
session a2 alice engineering
stop_client a2 INT
refused a3 alice alice-pw "alice choosing admins" --authgroup admins
[ "$REASON" = "not a member of the selected group" ] || fail "alice in admins: $REASON"
start_client b1 "$NS_C1" bob bob-pw --authgroup admins -v
session b1 bob admins
client_has b1 "X-CSTP-Split-Include: 198.18.61.0/24" || fail "admins' file did not apply"
stop_client b1 INT
log "engineering for alice and admins for bob by choice; admins refused to alice"

# ldap-required-group, the groups from a search for the groupOfNames naming the user.
restart "$CHOICE
ldap-group-attribute = cn
ldap-group-filter = (&(objectClass=groupOfNames)(member=%d))
ldap-group-base = $LDAP_GROUPS
ldap-required-group = admins"
refused r1 alice alice-pw "alice, not in admins" --authgroup staff
[ "$REASON" = "LDAP: not in required group admins" ] || fail "alice: $REASON"
start_client r2 "$NS_C1" bob bob-pw --authgroup admins
session r2 bob admins
stop_client r2 INT
log "ldap-required-group admins: alice refused, bob admitted (group search)"

# ldaps:// after a server that refuses the connection; memberOf names the groups by DN,
# and engineering (departmentNumber only) is no longer alice's.
restart "$CHOICE
ldap-uri = \"ldap://127.0.0.1:1 $LDAPS_URI\"
ldap-group-attribute = memberOf"
start_client l1 "$NS_C1" alice alice-pw --authgroup staff
session l1 alice staff
stop_client l1 INT
refused l2 alice alice-pw "engineering with groups from memberOf" --authgroup engineering
[ "$REASON" = "not a member of the selected group" ] || fail "engineering: $REASON"
log "ldaps:// (after a refused server), group staff from memberOf"

# A server certificate that ldap-ca-cert does not vouch for: the login fails, and the
# log and the audit file say why.
for uri in "$LDAP_URI" "$LDAPS_URI"; do
	restart "ldap-uri = $uri
ldap-ca-cert = $WORK/pki/other.pem"
	refused c1 alice alice-pw "$uri with a certificate of another CA"
	[[ $REASON == "LDAP: TLS with the server failed: its certificate is not signed by a CA of ldap-ca-cert"* ]] ||
		fail "$uri, another CA: $REASON"
	grep -q "The authentication service did not answer; try again later." "${CLIENT_LOG[c1]}" ||
		fail "$uri, another CA: the client was not told: $(tail -n 3 "${CLIENT_LOG[c1]}")"
done
log "a certificate of another CA: refused over StartTLS and ldaps://"

# Servers by name (this namespace's /etc/hosts): in clear text with ldap-starttls =
# false, and over ldaps:// refused, since the certificate names 127.0.0.1 only.
mkdir -p "/etc/netns/$NS_SRV" || fail "cannot make /etc/netns/$NS_SRV"
on_cleanup "rm -rf /etc/netns/$NS_SRV"
echo "127.0.0.1 ldap.sluice.test" >"/etc/netns/$NS_SRV/hosts"
restart "ldap-uri = ldap://ldap.sluice.test:$LDAP_PORT
ldap-starttls = false"
start_client n1 "$NS_C1" alice alice-pw
session n1 alice staff
stop_client n1 INT
restart "ldap-uri = ldaps://ldap.sluice.test:$LDAPS_PORT"
refused n2 alice alice-pw "ldaps:// by a name the certificate does not have"
[[ $REASON == "LDAP: TLS with the server failed: "* ]] || fail "a name not in the certificate: $REASON"
log "a server by name: in clear text with ldap-starttls = false; over ldaps:// its certificate must name it"

# slapd stopped (SIGSTOP): the kernel still accepts connections, nothing answers; the
# login fails after ldap-timeout, with a reason, before the helper's own deadline.
restart
kill -STOP "$LDAP_PID"
start=$SECONDS
refused h1 alice alice-pw "slapd not answering"
kill -CONT "$LDAP_PID"
[[ $REASON == "LDAP: server did not answer"* ]] || fail "slapd not answering: $REASON"
[ $((SECONDS - start)) -lt 10 ] || fail "the login took $((SECONDS - start)) s, not ldap-timeout"
grep -q "The authentication service did not answer; try again later." "${CLIENT_LOG[h1]}" ||
	fail "the client was not told: $(tail -n 3 "${CLIENT_LOG[h1]}")"

# slapd gone: a clear failure, not a hang, and no ban points.
ldap_stop
before=$(ban_score "$CLI_IP1")
refused g1 alice alice-pw "slapd stopped"
grep -q "The authentication service did not answer; try again later." "${CLIENT_LOG[g1]}" ||
	fail "the client was not told: $(tail -n 3 "${CLIENT_LOG[g1]}")"
[[ $REASON == "LDAP: server did not answer"* ]] || fail "slapd stopped: $REASON"
[ "$(ban_score "$CLI_IP1")" = "$before" ] ||
	fail "the unanswered login scored ban points: $before before, $(ban_score "$CLI_IP1") after"
pass
