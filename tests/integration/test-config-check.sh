#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: "sluiced -t -c FILE" accepts a good file and rejects an unknown key, a
# bad value and a missing required key, naming file, line and key; it warns (exit 0)
# when server-cert expires within 30 days or does not name listen-host. A file with
# several problems gets them all named in one run, with those of the system and of
# the per-user files. Debian's shipped ocserv.conf is taken, and so is the example of
# ocserv's manual page but for its virtual host.
. "$(dirname "$0")/lib.sh"
require_sluiced
bin=$(server_bin)
[ -x "$bin" ] || skip "$bin does not exist (build it first)"
TEST_NAME=test-config-check
WORK=$(mktemp -d "/tmp/sluice-it.$RUN_ID.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
require_cmd certtool
make_certs
PASSWD_FILE=$WORK/passwd
: >"$PASSWD_FILE"
write_config
good=$WORK/server.conf

# check FILE WANT-STATUS [REGEX]: runs the check and matches its output.
check()
{
	local out rc
	out=$("$bin" -t -c "$1" 2>&1)
	rc=$?
	log "$(basename "$1"): exit $rc: $(head -n 1 <<<"$out")"
	[ $rc = "$2" ] || fail "$(basename "$1"): exit $rc, expected $2"
	[ -z "${3:-}" ] || grep -Eq -- "$3" <<<"$out" || fail "$(basename "$1"): no match for $3"
}

check "$good" 0

{ cat "$good"; echo "no-such-key = 1"; } >"$WORK/unknown.conf"
line=$(wc -l <"$WORK/unknown.conf")
check "$WORK/unknown.conf" 1 "$WORK/unknown.conf:$line: key 'no-such-key': "

sed 's/^max-clients = .*/max-clients = many/' "$good" >"$WORK/badvalue.conf"
line=$(grep -n '^max-clients' "$WORK/badvalue.conf" | cut -d: -f1)
check "$WORK/badvalue.conf" 1 "$WORK/badvalue.conf:$line: key 'max-clients': "

# The test certificate expires in 2 days and names 198.18.0.1 and 198.18.1.1.
check "$good" 0 "server-cert .* expires in [0-9]+ (hours|days): renew it"
sed 's/^listen-host = .*/listen-host = 198.18.0.1/' "$good" >"$WORK/named.conf"
out=$("$bin" -t -c "$WORK/named.conf" 2>&1)
grep -q "does not name listen-host" <<<"$out" && fail "a warning for a listen-host the certificate names"
sed 's/^listen-host = .*/listen-host = 198.18.9.9/' "$good" >"$WORK/unnamed.conf"
check "$WORK/unnamed.conf" 0 "server-cert .* does not name listen-host 198.18.9.9"

grep -v '^auth = ' "$good" >"$WORK/missing.conf"
check "$WORK/missing.conf" 1 "$WORK/missing.conf(:[0-9]+)?: (missing required key|key) 'auth'"

# Every problem in one run: of the file (in its order), then of the system (files that
# cannot be read, a run-as-user that does not exist), each with file, line and key, and
# of every per-user file.
mkdir "$WORK/users"
printf 'route = 198.19.9.0/24\nrx-data-per-sec = lots\nno-such-user-key = 1\n' >"$WORK/users/alice"
sed -e 's/^max-clients = .*/max-clients = many/' -e 's|^server-cert = .*|server-cert = /nonexistent/cert.pem|' \
	-e 's/^run-as-user = .*/run-as-user = sluice-no-such-user/' "$good" >"$WORK/many.conf"
{ echo "keepalive = 10"; echo "keepalive = 20"; echo "not a key line"; } >>"$WORK/many.conf"
out=$("$bin" -t -c "$WORK/many.conf" 2>&1)
log "many.conf: $(wc -l <<<"$out") lines"
want=(
	"many.conf:$(grep -n '^max-clients' "$WORK/many.conf" | cut -d: -f1): key 'max-clients': 'many' is not a number"
	"many.conf:$(grep -n '^keepalive = 20' "$WORK/many.conf" | cut -d: -f1): key 'keepalive': duplicate"
	"many.conf:$(grep -n '^not a key' "$WORK/many.conf" | cut -d: -f1): syntax error"
)
for w in "${want[@]}"; do
	grep -qF -- "$w" <<<"$out" || fail "sluiced -t did not name: $w; it said: $out"
done
# The system's problems come once the file itself is valid.
sed -i -e '/^keepalive = 10$/d' -e '/^keepalive = 20/d' -e '/^not a key line/d' -e 's/^max-clients = .*/max-clients = 16/' "$WORK/many.conf"
echo "config-per-user = $WORK/users" >>"$WORK/many.conf"
out=$("$bin" -t -c "$WORK/many.conf" 2>&1)
rc=$?
[ $rc = 1 ] || fail "many.conf: exit $rc"
want=(
	"many.conf:$(grep -n '^run-as-user' "$WORK/many.conf" | cut -d: -f1): key 'run-as-user': no user 'sluice-no-such-user'"
	"many.conf:$(grep -n '^server-cert' "$WORK/many.conf" | cut -d: -f1): key 'server-cert': cannot read '/nonexistent/cert.pem'"
	"$WORK/users/alice:2: key 'rx-data-per-sec'"
	"$WORK/users/alice:3: key 'no-such-user-key'"
)
for w in "${want[@]}"; do
	grep -qF -- "$w" <<<"$out" || fail "sluiced -t did not name: $w; it said: $out"
done
log "every problem in one run: $(wc -l <<<"$out") lines"

# Debian's shipped ocserv.conf (package ocserv, which contrib/test.sh installs), with
# only the server-cert and server-key lines an operator adds (Debian leaves them out, and
# ocserv refuses the file without them too): every key is taken; the keys that have no
# effect here are named in a warning each; the one problem left is the password file it
# names, which only an installed server has.
deb=/etc/ocserv/ocserv.conf
[ -r "$deb" ] || fail "$deb missing (Debian: apt-get install ocserv)"
{ cat "$deb"; echo "server-cert = $SERVER_CERT"; echo "server-key = $SERVER_KEY"; } >"$WORK/debian.conf"
out=$("$bin" -t -c "$WORK/debian.conf" 2>&1)
problems=$(grep -v 'sluiced\[[0-9]*\]:' <<<"$out")
want="$WORK/debian.conf:$(grep -n '^auth = ' "$WORK/debian.conf" | cut -d: -f1): key 'auth': cannot read '/etc/ocserv/passwd'"
if [ -e /etc/ocserv/passwd ]; then
	[ -z "$problems" ] || fail "Debian's ocserv.conf: $problems"
else
	[ "$(wc -l <<<"$problems")" = 1 ] && grep -qF -- "$want" <<<"$problems" ||
		fail "Debian's ocserv.conf: not only the password file: $problems"
fi
for k in chroot-dir server-stats-reset-time use-occtl; do
	grep -q "key '$k' has no effect in sluice: " <<<"$out" || fail "no warning for $k in Debian's file"
done
log "Debian's ocserv.conf: $(grep -c 'has no effect' <<<"$out") keys without effect, taken with a warning"

# The example configuration of Debian's ocserv manual page (section FILES), taken from
# the installed page at each run: the .nf/.fi block after "ocserv's configuration file
# format", with roff's \- and \. unescaped, its files pointed at the test's. Its
# [vhost:www.example.com] section is the one problem (sluice has no virtual hosts);
# without that section, and with the section's included-http-headers lines kept, every
# key is taken, some with the warning that says why it has no effect.
man=/usr/share/man/man8/ocserv.8.gz
[ -r "$man" ] && [ -x /usr/sbin/ocserv ] || fail "$man or ocserv missing (Debian: apt-get install ocserv)"
zcat "$man" | awk '/^\.SS "ocserv.s configuration file format"/ { f = 1 } f && /^\.fi$/ { exit }
	f == 2 { print } f == 1 && /^\.nf$/ { f = 2 }' | sed -e 's/\\-/-/g' -e 's/\\\././g' |
	sed -e "s|\./sample\.passwd|$PASSWD_FILE|" -e "s|\.\./tests/certs/ca\.pem|$CA_CERT|" \
		-e "s|\.\./tests/certs/server-cert[^ ]*\.pem|$SERVER_CERT|" \
		-e "s|\.\./tests/certs/server-key[^ ]*\.pem|$SERVER_KEY|" >"$WORK/manpage.conf"
grep -q '^\[vhost:www\.example\.com\]$' "$WORK/manpage.conf" && grep -q '^auth = ' "$WORK/manpage.conf" ||
	fail "no example configuration found in $man"
grep -q '\\' "$WORK/manpage.conf" && fail "roff escapes left in the example: $(grep '\\' "$WORK/manpage.conf")"
grep -q '\.\./tests/' "$WORK/manpage.conf" && fail "an example path not pointed at a test file"
out=$("$bin" -t -c "$WORK/manpage.conf" 2>&1)
rc=$?
problems=$(grep -v 'sluiced\[[0-9]*\]:' <<<"$out")
want="$WORK/manpage.conf:$(grep -n '^\[vhost:' "$WORK/manpage.conf" | cut -d: -f1): section [vhost:www.example.com]: virtual hosts are not supported"
[ $rc = 1 ] && [ "$problems" = "$want" ] || fail "the manual page's example: exit $rc, not only the vhost: $problems"
headers=$(sed -n '/^\[vhost:/,$p' "$WORK/manpage.conf" | grep '^included-http-headers = ')
[ "$(wc -l <<<"$headers")" -ge 10 ] || fail "the example's included-http-headers lines are gone: $headers"
{ sed '/^\[vhost:/,$d' "$WORK/manpage.conf"; echo "$headers"; } >"$WORK/manpage-novhost.conf"
out=$("$bin" -t -c "$WORK/manpage-novhost.conf" 2>&1)
rc=$?
problems=$(grep -v -e 'sluiced\[[0-9]*\]:' -e ': configuration is valid$' <<<"$out")
[ $rc = 0 ] && [ -z "$problems" ] || fail "the manual page's example without its vhost: exit $rc: $problems"
for k in server-stats-reset-time use-occtl; do
	grep -q "key '$k' has no effect in sluice: " <<<"$out" || fail "no warning for $k in the manual page's example"
done
"$bin" --dump-config -c "$WORK/manpage-novhost.conf" 2>/dev/null | grep '^included-http-headers = ' |
	diff - <(sed 's/ *$//' <<<"$headers") >/dev/null || fail "the example's header lines are not taken as written"
log "the manual page's example: the vhost is the one problem; without it every key is taken ($(grep -c 'sluiced\[' <<<"$out") warnings)"
pass
