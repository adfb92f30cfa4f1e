#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: auto-select-group = true. The login form's group choices are the groups
# the authentication backend knows, as ocserv lists them, made at start-up and on reload:
# - plain: the groups of the password file. alice (eng, ops) picks ops with --authgroup
#   and sluicectl shows it; a group of the file she is not in (qa) is refused; a group
#   added to the file shows on the form after SIGHUP;
# - pam (pam[gid-min=1000], pam_unix): the system's groups of gid 1000 and above, not
#   those below; the user picks one of hers and gets it, one she is not in is refused.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd curl jq useradd userdel groupadd groupdel chpasswd
it_init
require_ctl
make_certs
BASE=https://$SRV_IP1:$PORT

# form_groups: the values of the login form's group options, one per line.
form_groups()
{
	ip netns exec "$NS_C1" curl -s --http1.1 --cacert "$CA_CERT" --max-time 10 "$BASE/" |
		sed -n 's|.*<option value="\([^"]*\)">.*|\1|p'
}

# login NAME USER PASSWORD GROUP: a client that picks GROUP on the form.
login() { start_client "$1" "$NS_C1" "$2" "$3" --authgroup "$4"; }

add_user alice alice-pw eng,ops
add_user bob bob-pw
add_user carol carol-pw qa
write_config "auto-select-group = true"
start_server
groups=$(form_groups | sort | tr '\n' ' ')
[ "$groups" = "eng ops qa " ] || fail "plain: the form offers '$groups', not the password file's groups"
log "plain: the form offers $groups"

login c1 alice alice-pw ops
wait_tunnel c1 15 >/dev/null || fail "plain: no tunnel for alice in ops"
ctl --json show user alice | jq -e '.[0].Groupname == "ops"' >/dev/null ||
	fail "plain: alice did not get the group she chose: $(ctl --json show user alice)"
stop_client c1
login c2 alice alice-pw qa
expect_refused c2 "plain: alice choosing qa, a group she is not in"
server_log_has "auth failed: user=alice .*reason=not a member of the selected group" 5 ||
	fail "plain: no log of alice's refused group"

add_user dave dave-pw sec
kill -HUP "$SERVER_PID"
server_log_has "auto-select-group: the login form offers 4 groups" 10 ||
	fail "plain: the reload did not list the groups again"
groups=$(form_groups | sort | tr '\n' ' ')
[ "$groups" = "eng ops qa sec " ] || fail "plain: after the reload the form offers '$groups'"
log "plain: after a reload the form offers $groups"
stop_server

# pam, with the system's groups. Names unique to this run, removed when it ends.
PAM_DIR=/lib/x86_64-linux-gnu/security
[ -f "$PAM_DIR/pam_unix.so" ] || PAM_DIR=/usr/lib/x86_64-linux-gnu/security
[ -f "$PAM_DIR/pam_unix.so" ] || fail "no pam_unix.so for the pam part"
U=slau$$
GA=slga$$
GB=slgb$$
GS=slgs$$
SVC=sluice-it-$$
getent passwd "$U" >/dev/null && fail "user $U exists already"
on_cleanup "userdel $U 2>/dev/null; groupdel $GA 2>/dev/null; groupdel $GB 2>/dev/null; groupdel $GS 2>/dev/null"
on_cleanup "rm -f /etc/pam.d/$SVC"
groupadd "$GA" && groupadd "$GB" && groupadd -r "$GS" || fail "groupadd"
[ "$(getent group "$GS" | cut -d: -f3)" -lt 1000 ] && [ "$(getent group "$GA" | cut -d: -f3)" -ge 1000 ] ||
	fail "unexpected gids"
useradd -M -N -g users -G "$GA,$GS" -s /usr/sbin/nologin "$U" || fail "useradd $U"
echo "$U:$U-pw" | chpasswd || fail "chpasswd"
printf 'auth required pam_unix.so\naccount required pam_unix.so\n' >"/etc/pam.d/$SVC"
write_config "auth = \"pam[gid-min=1000,service=$SVC]\"
auto-select-group = true"
start_server
form_groups >"$WORK/pam-groups"
want=$(getent group | awk -F: '$3 >= 1000 { print $1 }' | sort -u)
[ "$(sort -u "$WORK/pam-groups")" = "$want" ] ||
	fail "pam: the form offers $(tr '\n' ' ' <"$WORK/pam-groups"), not the groups of gid >= 1000: $(echo $want)"
grep -qx "$GA" "$WORK/pam-groups" && grep -qx "$GB" "$WORK/pam-groups" ||
	fail "pam: the form lacks $GA or $GB"
grep -qx "$GS" "$WORK/pam-groups" && fail "pam: the form offers $GS, below gid-min"
log "pam: the form offers the $(wc -l <"$WORK/pam-groups") groups of gid >= 1000"

login p1 "$U" "$U-pw" "$GA"
wait_tunnel p1 20 >/dev/null || fail "pam: no tunnel in $GA"
[ "$(ctl --json show user "$U" | jq -r '.[0].Groupname')" = "$GA" ] ||
	fail "pam: the session is not in $GA: $(ctl --json show user "$U")"
stop_client p1
login p2 "$U" "$U-pw" "$GB"
expect_refused p2 "pam: $GB, a group the user is not in"
server_log_has "auth failed: user=$U .*reason=not a member of the selected group" 5 ||
	fail "pam: no log of the refused group"
pass "auto-select-group with plain and pam"
