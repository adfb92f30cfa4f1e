#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: user-profile, the AnyConnect XML client profile.
# - sluiced -t refuses a profile larger than 16 KiB, naming the key and the file;
# - the login's success reply names the profile (vpn-profile-manifest: its URI and SHA-1);
# - curl on a new connection: without a cookie, or with a cookie that no login gave, the
#   profile is refused (401); with the session's cookie it gets the file, whose SHA-1 is
#   the manifest's;
# - openconnect --xmlconfig downloads it on the connection that logged in, checks the
#   SHA-1 and writes the file, then connects;
# - SIGHUP reads a changed file; a reload that cannot read it keeps the one read before.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd curl sha1sum jq
it_init
require_ctl
make_certs
add_user alice alice-pw

PROFILE=$WORK/my\ profile.xml
URI=/profiles/my%20profile.xml
cat >"$PROFILE" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<AnyConnectProfile xmlns="http://schemas.xmlsoap.org/encoding/">
	<ServerList>
		<HostEntry>
			<HostName>VPN one</HostName>
			<HostAddress>vpn.example.com</HostAddress>
		</HostEntry>
	</ServerList>
</AnyConnectProfile>
EOF

# sluiced -t: too large a profile is an error that names the key and the file.
head -c 16385 /dev/zero | tr '\0' 'x' >"$WORK/big.xml"
write_config "user-profile = $WORK/big.xml"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) && fail "sluiced -t accepted a 16385-byte profile"
grep -qE "key 'user-profile': .*big.xml: 16385 bytes, larger than 16384" <<<"$out" ||
	fail "sluiced -t did not say why: $out"
log "sluiced -t refuses a profile above 16 KiB"

write_config "user-profile = \"$PROFILE\""
"$(server_bin)" -t -c "$SERVER_CONF" >/dev/null 2>&1 || fail "sluiced -t refuses the profile"
start_server
server_log_has "user-profile .*: [0-9]+ bytes, SHA-1 $(sha1sum "$PROFILE" | cut -c1-40), served as $URI" 5 ||
	fail "no log of the profile read at start-up"
BASE=https://$SRV_IP1:$PORT

# fetch NAME [CURL-ARGS...]: a GET of the profile on a new connection; CODE is its status,
# $WORK/NAME.b its body.
fetch()
{
	local name=$1
	shift
	CODE=$(ip netns exec "$NS_C1" curl -s --http1.1 --cacert "$CA_CERT" --max-time 10 \
		-o "$WORK/$name.b" -w '%{http_code}' "$@" "$BASE$URI")
	log "GET $URI ($name): $CODE"
}

fetch no-cookie
[ "$CODE" = 401 ] || fail "the profile went to a client without a cookie ($CODE)"
fetch bad-cookie -b "webvpn=$(printf '%064d' 7)"
[ "$CODE" = 401 ] || fail "the profile went to a client with a made-up cookie ($CODE)"
server_log_has "client profile refused: unknown or expired cookie" 5 ||
	fail "no log of sec's refusal"

# login: alice logs in with curl; COOKIE is her session cookie, $WORK/login.xml the
# success reply.
login()
{
	ip netns exec "$NS_C1" curl -s --http1.1 --cacert "$CA_CERT" --max-time 10 \
		-D "$WORK/login.h" -o "$WORK/login.xml" --data 'username=alice&password=alice-pw' \
		"$BASE/auth" || fail "the login with curl failed"
	COOKIE=$(tr -d '\r' <"$WORK/login.h" | sed -n 's/^Set-Cookie: webvpn=\([^;]*\);.*/\1/p')
	[ -n "$COOKIE" ] || fail "no cookie from the login: $(cat "$WORK/login.h")"
}

login
grep -q "<uri>$URI</uri>" "$WORK/login.xml" || fail "no profile URI in the success reply"
HASH=$(sed -n 's|.*<hash type="sha1">\([0-9a-f]*\)</hash>.*|\1|p' "$WORK/login.xml")
[ "$HASH" = "$(sha1sum "$PROFILE" | cut -c1-40)" ] ||
	fail "the manifest's hash '$HASH' is not the file's"

fetch with-cookie -b "webvpn=$COOKIE"
[ "$CODE" = 200 ] || fail "the session's cookie did not get the profile ($CODE)"
cmp -s "$WORK/with-cookie.b" "$PROFILE" || fail "the profile served differs from the file"
[ "$(sha1sum <"$WORK/with-cookie.b" | cut -c1-40)" = "$HASH" ] ||
	fail "the profile served does not have the manifest's hash"
log "curl: refused without a cookie, served with the session's, hash as announced"

# openconnect downloads it only with --xmlconfig, on the connection that logged in.
start_client c1 "$NS_C1" alice alice-pw -v --xmlconfig "$WORK/oc-profile.xml"
wait_tunnel c1 15 >/dev/null || fail "no tunnel with --xmlconfig"
grep -q "Downloaded new XML profile" "${CLIENT_LOG[c1]}" ||
	fail "openconnect did not download the profile: $(grep -i -m3 'xml\|profile' "${CLIENT_LOG[c1]}")"
cmp -s "$WORK/oc-profile.xml" "$PROFILE" || fail "openconnect wrote another file"
server_log_has "client profile $URI sent to $CLI_IP1" 5 || fail "no log of the profile sent"
ctl --json show user alice | jq -e '.[0].Username == "alice"' >/dev/null ||
	fail "no session of alice after the download"
log "openconnect --xmlconfig downloaded the profile and connected"
stop_client c1

# A reload reads the changed file; one that cannot read it keeps the profile.
sed -i 's/VPN one/VPN two/' "$PROFILE"
NEW=$(sha1sum "$PROFILE" | cut -c1-40)
kill -HUP "$SERVER_PID"
server_log_has "SHA-1 $NEW" 10 || fail "the reload did not read the changed profile"
login
fetch after-reload -b "webvpn=$COOKIE"
[ "$CODE" = 200 ] && cmp -s "$WORK/after-reload.b" "$PROFILE" ||
	fail "the reloaded profile is not served ($CODE)"
cp "$PROFILE" "$WORK/kept.xml"
rm -f "$PROFILE"
kill -HUP "$SERVER_PID"
server_log_has "reload: user-profile .*my profile.xml: No such file or directory; clients keep getting the profile read before" 10 ||
	fail "no warning about the unreadable profile"
login
fetch kept -b "webvpn=$COOKIE"
[ "$CODE" = 200 ] && cmp -s "$WORK/kept.b" "$WORK/kept.xml" ||
	fail "the profile read before is not served after a failed read ($CODE)"
log "SIGHUP reads the profile again, and keeps the old one when it cannot"
pass "user-profile"
