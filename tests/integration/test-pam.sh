#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: auth = "pam[...]" with the system's own PAM (pam_unix, pam_oath, pam_exec)
# and a test user and groups that the test creates and removes. The PAM conversation runs
# in sec's auth helpers:
# - the form's password answers pam_unix; a wrong one is refused and audited;
# - the user's groups come from NSS: select-group takes one of them, gid-min leaves the
#   system group out, and with no choice the session has no group;
# - a second prompt (pam_oath) becomes a second form, which openconnect's --token-mode
#   answers, and a prompt that echoes is answered from stdin;
# - a PAM module that hangs (pam_exec running sleep) holds only its own login: another
#   user logs in meanwhile, and the hung login fails after auth-helper-timeout;
# - sluiced -t refuses a PAM service without its file;
# - acct = pam[service=NAME]: a PAM session (pam_exec logs it) opened when the tunnel is
#   up and closed when it ends.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd useradd userdel groupadd groupdel chpasswd oathtool jq
PAM_DIR=/lib/x86_64-linux-gnu/security
[ -f "$PAM_DIR/pam_unix.so" ] || PAM_DIR=/usr/lib/x86_64-linux-gnu/security
for m in pam_unix pam_oath pam_exec; do
	[ -f "$PAM_DIR/$m.so" ] || skip "no $m.so (apt-get install libpam-modules libpam-oath)"
done
it_init
require_ctl
make_certs

# Names unique to this run; all removed when the test ends.
U=slpa$$
SLOW=slps$$
GN=slgn$$
GS=slgs$$
SVC=sluice-it-$$
for n in "$U" "$SLOW"; do
	getent passwd "$n" >/dev/null && fail "user $n exists already"
done
on_cleanup "userdel $U 2>/dev/null; userdel $SLOW 2>/dev/null; groupdel $GN 2>/dev/null; groupdel $GS 2>/dev/null"
on_cleanup "rm -f /etc/pam.d/$SVC /etc/pam.d/$SVC-otp /etc/pam.d/$SVC-hang /etc/pam.d/$SVC-acct"
on_cleanup "[ -s $WORK/slow.pid ] && kill \$(cat $WORK/slow.pid) 2>/dev/null"
groupadd "$GN" || fail "groupadd $GN"
groupadd -r "$GS" || fail "groupadd -r $GS"
GN_GID=$(getent group "$GN" | cut -d: -f3)
GS_GID=$(getent group "$GS" | cut -d: -f3)
[ "$GS_GID" -lt 1000 ] && [ "$GN_GID" -ge 1000 ] || fail "unexpected gids $GS_GID $GN_GID"
for n in "$U" "$SLOW"; do
	useradd -M -N -g users -G "$GN,$GS" -s /usr/sbin/nologin "$n" || fail "useradd $n"
done
echo "$U:$U-pw" | chpasswd || fail "chpasswd"
echo "$SLOW:$SLOW-pw" | chpasswd || fail "chpasswd"

printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >/etc/pam.d/$SVC
KEY=3132333435363738393031323334353637383930
printf 'HOTP/T30 %s - %s\n' "$U" "$KEY" >"$WORK/oath"
chmod 600 "$WORK/oath"
printf 'auth requisite pam_unix.so\nauth required pam_oath.so usersfile=%s window=4\naccount required pam_unix.so\n' \
	"$WORK/oath" >/etc/pam.d/$SVC-otp
# pam_exec hangs for $SLOW only (its sleep's PID kept for the cleanup).
cat >"$WORK/hang.sh" <<EOF
#!/bin/sh
[ "\$PAM_USER" = "$SLOW" ] || exit 0
echo \$\$ >$WORK/slow.pid
exec sleep 30
EOF
chmod 755 "$WORK/hang.sh"
printf 'auth required pam_exec.so quiet %s\nauth required pam_unix.so\naccount required pam_unix.so\n' \
	"$WORK/hang.sh" >/etc/pam.d/$SVC-hang

# acct = pam: pam_exec writes each session's open and close, with the user and host.
printf '#!/bin/sh\necho "$PAM_TYPE $PAM_USER $PAM_RHOST" >>%s\n' "$WORK/sessions" >"$WORK/session.sh"
chmod 755 "$WORK/session.sh"
printf 'session required pam_exec.so %s\n' "$WORK/session.sh" >"/etc/pam.d/$SVC-acct"

AUDIT=$WORK/audit.json
pam_config()
{
	write_config "auth = \"pam[gid-min=1000,service=$1]\"
select-group = $GN
select-group = $GS
default-select-group = all
audit-log = $AUDIT
auth-helper-timeout = ${2:-15}
${3:-}"
}

# A service without its file: sluiced -t says so.
pam_config no-such-service-$$
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) && fail "sluiced -t took a PAM service without a file"
grep -q "no PAM service file /etc/pam.d/no-such-service-$$" <<<"$out" || fail "unclear error: $out"
log "sluiced -t: $out"

pam_config "$SVC"
start_server
start_client c1 "$NS_C1" "$U" "$U-pw" --authgroup all
ip=$(wait_tunnel c1 20) || fail "no tunnel for a PAM login"
json=$(ctl --json show user "$U") || fail "sluicectl show user failed"
[ "$(jq -r '.[0].Authentication' <<<"$json")" = pam ] || fail "Authentication is not pam: $json"
[ "$(jq -r '.[0].Groupname' <<<"$json")" = "(none)" ] || fail "a group without a choice: $json"
server_log_has "auth helper started" 5 || fail "no auth helper started"
log "PAM login with pam_unix: $ip"
stop_client c1 INT

# The group chosen on the form must be one of the user's NSS groups at or above gid-min.
start_client c2 "$NS_C1" "$U" "$U-pw" --authgroup "$GN"
wait_tunnel c2 20 >/dev/null || fail "no tunnel with the group $GN"
[ "$(ctl --json show user "$U" | jq -r '.[0].Groupname')" = "$GN" ] || fail "the session is not in $GN"
stop_client c2 INT
start_client c3 "$NS_C1" "$U" "$U-pw" --authgroup "$GS"
expect_refused c3 "the system group $GS (below gid-min)"
server_log_has "not a member of the selected group" 5 || fail "no reason for the refused group"

# A wrong password: refused, with PAM's reason in the audit file.
start_client c4 "$NS_C1" "$U" wrong-pw --authgroup all
expect_refused c4 "a wrong password"
wait_output 10 grep -F '"reason":"PAM: Authentication failure"' "$AUDIT" >/dev/null ||
	fail "no audit record with PAM's reason: $(tail -n 3 "$AUDIT")"
stop_server

# Two prompts: the password, then pam_oath's code on a second form.
pam_config "$SVC-otp"
start_server
start_client t1 "$NS_C1" "$U" "$U-pw" --authgroup all --token-mode=totp --token-secret="0x$KEY"
ip=$(wait_tunnel t1 20) || fail "no tunnel with PAM's one-time password"
grep -q "Generating OATH TOTP token code" "${CLIENT_LOG[t1]}" ||
	fail "the client did not answer the second form with its token"
log "pam_unix then pam_oath: $ip"
stop_client t1 INT
# By hand: the code from stdin, on the form whose label is pam_oath's prompt.
sleep 1
out=$(printf '%s\n%s\n' "$U-pw" 000000 | ip netns exec "$NS_C1" timeout 30 openconnect \
	--authenticate --passwd-on-stdin --user "$U" --servercert "$PIN" --authgroup all \
	"$(server_url_for "$NS_C1")" 2>"$WORK/hand.log") && fail "a wrong code logged in: $out"
grep -q "One-time password (OATH)" "$WORK/hand.log" || fail "the second form did not show PAM's prompt: $(cat "$WORK/hand.log")"
stop_server

# A module that hangs holds only its own login.
pam_config "$SVC-hang" 6
start_server
start_client s1 "$NS_C1" "$SLOW" "$SLOW-pw" --authgroup all
wait_output 10 cat "$WORK/slow.pid" >/dev/null || fail "the hanging module did not run"
start_client c5 "$NS_C2" "$U" "$U-pw" --authgroup all
wait_tunnel c5 5 >/dev/null || fail "another user's PAM login waited for the hung one"
kill -0 "${CLIENT_PID[s1]}" 2>/dev/null || fail "the hung login ended before the other was up"
log "$U logged in while $SLOW's PAM module hung"
expect_refused s1 "the hung PAM login"
server_log_has "auth helper \\(pid [0-9]+\\): (it ended|the backend did not answer in time)" 5 ||
	fail "no log of the hung helper"
grep -q "The authentication service did not answer" "$WORK/client-s1.log" ||
	fail "the client was not told that the service did not answer: $(tail -n 3 "$WORK/client-s1.log")"
# The pool replaces the helper: the next login works.
stop_client c5 INT
start_client c6 "$NS_C1" "$U" "$U-pw" --authgroup all
wait_tunnel c6 20 >/dev/null || fail "no PAM login after a helper was cut off"
stop_client c6 INT
stop_server

# acct = pam: a PAM session for the tunnel.
pam_config "$SVC" 15 "acct = pam[service=$SVC-acct]"
start_server
start_client c7 "$NS_C1" "$U" "$U-pw" --authgroup all
wait_tunnel c7 20 >/dev/null || fail "no tunnel with acct = pam"
wait_output 10 grep -x "open_session $U $CLI_IP1" "$WORK/sessions" >/dev/null ||
	fail "no PAM session opened for the tunnel: $(cat "$WORK/sessions" 2>&1)"
grep -q close_session "$WORK/sessions" && fail "the PAM session closed while the tunnel is up"
stop_client c7 INT
wait_output 10 grep -x "close_session $U $CLI_IP1" "$WORK/sessions" >/dev/null ||
	fail "the PAM session was not closed when the tunnel ended: $(cat "$WORK/sessions")"
log "acct = pam: $(tr '\n' ';' <"$WORK/sessions")"
pass
