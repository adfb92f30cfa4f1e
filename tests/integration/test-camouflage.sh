#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# camouflage = true: without the secret, every request (any path and method, a CONNECT
# with or without a cookie, malformed and oversized ones) gets the same decoy, 401 with
# the realm, and after a reload without a realm 404, with nothing of a VPN in it and no
# sooner than any other decoy; openconnect with https://server/?SECRET logs in and
# pings, a cookie opens tunnels on connections without the secret (also after a
# reconnect) until it is logged out, and openconnect without the secret fails. The
# login form posts back with the secret, so a POST on a new connection passes too.
. "$(dirname "$0")/lib.sh"
it_init
require_sluiced
require_cmd curl openssl

# Random, with characters the form's action must escape (&) and that a query carries.
rand() { head -c 12 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }
SECRET="$(rand)&v=1"
REALM="Staff only"
make_certs
add_user alice alice-pw
write_config "camouflage = true
camouflage_secret = \"$SECRET\"
camouflage_realm = \"$REALM\""
start_server
BASE=https://$SRV_IP1:$PORT
WANT_CODE=401

# probe NAME CURL-ARGS...: one request with curl from client namespace 1 over a new TLS
# connection; CODE is its status, $WORK/NAME.h its headers (without CRs), $WORK/NAME.b
# its body, WAIT_MS the time from the end of the TLS handshake to the first byte of the
# answer.
probe()
{
	local name=$1 out t_tls t_first
	shift
	out=$(ip netns exec "$NS_C1" curl -s --http1.1 --cacert "$CA_CERT" --max-time 10 \
		-D "$WORK/$name.hr" -o "$WORK/$name.b" \
		-w '%{http_code} %{time_appconnect} %{time_starttransfer}' "$@")
	read -r CODE t_tls t_first <<<"$out"
	tr -d '\r' <"$WORK/$name.hr" >"$WORK/$name.h"
	touch "$WORK/$name.b"
	WAIT_MS=$(awk -v a="$t_tls" -v b="$t_first" 'BEGIN { printf "%d", (b - a) * 1000 }')
	log "probe $name: $CODE after $WAIT_MS ms"
}

# raw_probe NAME FILE: sends the bytes of FILE over TLS (openssl s_client) and reads
# until the server closes; sets CODE, $WORK/NAME.h and $WORK/NAME.b as probe does.
raw_probe()
{
	local name=$1 raw=$WORK/$1.raw
	ip netns exec "$NS_C1" timeout 10 openssl s_client -quiet -connect "$SRV_IP1:$PORT" \
		-CAfile "$CA_CERT" <"$2" >"$raw" 2>"$WORK/$name.err"
	tr -d '\r' <"$raw" | sed '/^$/q' >"$WORK/$name.h"
	tr -d '\r' <"$raw" | sed '1,/^$/d' >"$WORK/$name.b"
	CODE=$(head -n 1 "$WORK/$name.h" | awk '{ print $2 }')
	WAIT_MS=
	log "raw probe $name: ${CODE:-no answer}"
}

# The headers and body of the first decoy: every later one must look the same, but for
# its Date (and Connection: close, and the body of a HEAD request).
SHAPE=
shape() { grep -Ev '^(Date|Connection):' "$WORK/$1.h"; }

# expect_decoy NAME [head]: the answer of the last probe is the decoy.
expect_decoy()
{
	local name=$1 h=$WORK/$1.h b=$WORK/$1.b
	[ "$CODE" = "$WANT_CODE" ] || fail "$name: status '$CODE', not the decoy's $WANT_CODE"
	if [ -n "$REALM" ]; then
		grep -qxF "WWW-Authenticate: Basic realm=\"$REALM\"" "$h" ||
			fail "$name: no WWW-Authenticate with the realm: $(cat "$h")"
	elif grep -qi '^WWW-Authenticate' "$h"; then
		fail "$name: WWW-Authenticate without a realm"
	fi
	grep -qi '^Date: ' "$h" || fail "$name: no Date header"
	grep -qi '^Content-Type: text/html' "$h" || fail "$name: not an HTML page"
	if grep -Ei '^(X-|Set-Cookie|Server)' "$h"; then
		fail "$name: the decoy has the headers above"
	fi
	if grep -Ei 'config-auth|webvpn|anyconnect|cstp|dtls|sluice|vpn|<auth' "$h" "$b"; then
		fail "$name: the decoy names the VPN (above)"
	fi
	if [ "${2:-}" = head ]; then
		[ ! -s "$b" ] || fail "$name: a body in the answer to HEAD"
	else
		grep -q '</html>' "$b" || fail "$name: no HTML body: $(head -c 200 "$b")"
		if [ -z "$SHAPE" ]; then
			SHAPE=$(shape "$name")
			[ -n "$SHAPE" ] || fail "$name: no headers"
			cp "$b" "$WORK/decoy-body"
		else
			[ "$(shape "$name")" = "$SHAPE" ] ||
				fail "$name: headers differ from the first decoy's: $(shape "$name")"
			cmp -s "$b" "$WORK/decoy-body" || fail "$name: body differs from the first decoy's"
		fi
	fi
	if [ -n "$WAIT_MS" ] && [ "$WAIT_MS" -lt 45 ]; then
		fail "$name: the decoy came after $WAIT_MS ms, before the 50 ms every decoy waits"
	fi
	return 0
}

# An openconnect-like init request (protocol.md §2.3) without the secret.
INIT='<?xml version="1.0" encoding="UTF-8"?>
<config-auth client="vpn" type="init" aggregate-auth-version="2"><version who="vpn">v9.01-3</version><device-id>linux-64</device-id></config-auth>'
VPN_HEADERS=(-H 'X-Transcend-Version: 1' -H 'X-Aggregate-Auth: 1' -H 'X-Support-HTTP-Auth: true'
	-A 'Open AnyConnect VPN Agent v9.01-3')

# decoy_suite WHAT: every kind of request without the secret gets the decoy.
decoy_suite()
{
	local what=$1 old=${2:-}
	SHAPE=
	probe get-root "$BASE/"
	expect_decoy get-root
	probe post-init "${VPN_HEADERS[@]}" -H 'Content-Type: application/xml; charset=utf-8' \
		--data-binary "$INIT" "$BASE/"
	expect_decoy post-init
	probe post-auth "${VPN_HEADERS[@]}" --data 'username=alice&password=alice-pw' \
		"$BASE/auth"
	expect_decoy post-auth
	probe wrong-secret "${VPN_HEADERS[@]}" --data-binary "$INIT" "$BASE/?not-the-secret"
	expect_decoy wrong-secret
	probe secret-prefix "$BASE/?${SECRET%?}"
	expect_decoy secret-prefix
	if [ -n "$old" ]; then
		probe old-secret "$BASE/?$old"
		expect_decoy old-secret
	fi
	probe profile "$BASE/profiles/x.xml"
	expect_decoy profile
	probe cscoe "$BASE/+CSCOE+/logon.html"
	expect_decoy cscoe
	# Raw, so that a body after the headers would show.
	printf 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$WORK/head.req"
	raw_probe head-root "$WORK/head.req"
	expect_decoy head-root head
	probe options -X OPTIONS "$BASE/"
	expect_decoy options
	probe connect-no-cookie -X CONNECT "$BASE/CSCOSSLC/tunnel"
	expect_decoy connect-no-cookie
	# main checks this cookie (and refuses it): the answer still waits like the others.
	probe connect-bad-cookie -X CONNECT -H "Cookie: webvpn=$(rand)$(rand)" \
		"$BASE/CSCOSSLC/tunnel"
	expect_decoy connect-bad-cookie
	probe connect-long-cookie -X CONNECT -H "Cookie: webvpn=$(printf '%0300d' 0)" \
		"$BASE/CSCOSSLC/tunnel"
	expect_decoy connect-long-cookie
	printf 'GARBAGE\r\n\r\n' >"$WORK/garbage.req"
	raw_probe garbage "$WORK/garbage.req"
	expect_decoy garbage
	printf 'GET / HTTP/2.0\r\nHost: x\r\n\r\n' >"$WORK/http2.req"
	raw_probe http2 "$WORK/http2.req"
	expect_decoy http2
	{
		printf 'GET / HTTP/1.1\r\nHost: vpn\r\n'
		for i in $(seq 1 300); do printf 'X-Filler-%d: %0100d\r\n' "$i" 0; done
		printf '\r\n'
	} >"$WORK/oversized.req"
	raw_probe oversized "$WORK/oversized.req"
	expect_decoy oversized
	printf 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
		>"$WORK/chunked.req"
	raw_probe chunked "$WORK/chunked.req"
	expect_decoy chunked
	# Keep-alive: several requests on one connection, each the decoy.
	printf 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
		>"$WORK/two.req"
	raw_probe two "$WORK/two.req"
	[ "$(grep -a -c "^HTTP/1.1 $WANT_CODE " "$WORK/two.raw")" = 2 ] ||
		fail "two requests on one connection did not get two decoys"
	log "$what: every request without the secret got the decoy ($WANT_CODE)"
}

decoy_suite "with a realm"

# --- with the secret ----------------------------------------------------------------------

probe init-secret "${VPN_HEADERS[@]}" -H 'Content-Type: application/xml; charset=utf-8' \
	--data-binary "$INIT" "$BASE/?$SECRET"
[ "$CODE" = 200 ] || fail "POST /?SECRET: status $CODE"
grep -q 'config-auth' "$WORK/init-secret.b" || fail "POST /?SECRET: no login form"
action="/auth?${SECRET//&/&amp;}"
grep -qF "action=\"$action\"" "$WORK/init-secret.b" ||
	fail "the form does not post to $action: $(grep -o 'action="[^"]*"' "$WORK/init-secret.b")"
log "the login form posts to $action"

# The form's action on a new connection passes, and its login gives a cookie.
probe login-secret "${VPN_HEADERS[@]}" --data 'username=alice&password=alice-pw' \
	"$BASE/auth?$SECRET"
[ "$CODE" = 200 ] || fail "POST /auth?SECRET: status $CODE"
cookie=$(sed -n 's/^Set-Cookie: webvpn=\([^;]*\);.*/\1/p' "$WORK/login-secret.h")
[ -n "$cookie" ] || fail "POST /auth?SECRET on a new connection gave no cookie"
log "a login on a new connection with the form's action got a cookie"

CLIENT_URL="$BASE/?$SECRET" start_client c1 "$NS_C1" alice alice-pw
ip1=$(wait_tunnel c1 20) || fail "openconnect with ?SECRET got no tunnel"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip1")" 3) || fail "no ping through the tunnel: $out"
log "openconnect with ?SECRET: tunnel $ip1, ping ok"
stop_client c1

# The cookie, on connections that never carry the secret (openconnect -C, a reconnect).
start_cookie_client k1 "$NS_C2" "$cookie"
ipk=$(wait_tunnel k1 20) || fail "the cookie opened no tunnel without the secret"
out=$(ping_through "$NS_C2" "$(server_tun_ip "$ipk")" 3) || fail "no ping with the cookie: $out"
stop_client k1 KILL
start_cookie_client k2 "$NS_C2" "$cookie"
ipk2=$(wait_tunnel k2 20) || fail "the cookie did not reconnect"
[ "$ipk2" = "$ipk" ] || fail "the address changed on reconnect: $ipk -> $ipk2"
out=$(ping_through "$NS_C2" "$(server_tun_ip "$ipk2")" 3) || fail "no ping after reconnect: $out"
log "cookie without the secret: tunnel $ipk, reconnected to the same address, ping ok"
stop_client k2 INT
sleep 0.5
# Logged out: the cookie is refused, and the refusal is the decoy, not the VPN's 401.
probe connect-old-cookie -X CONNECT -H "Cookie: webvpn=$cookie" "$BASE/CSCOSSLC/tunnel"
expect_decoy connect-old-cookie
start_cookie_client k3 "$NS_C2" "$cookie"
expect_refused k3 "the logged-out cookie"

start_client c2 "$NS_C1" alice alice-pw
expect_refused c2 "openconnect without the secret"

# --- reloaded: a new secret, no realm ----------------------------------------------------

OLD=$SECRET
SECRET=$(rand)$(rand)
REALM=
WANT_CODE=404
write_config "camouflage = true
camouflage_secret = $SECRET"
kill -HUP "$SERVER_PID"
server_log_has 'configuration reloaded' 5 || fail "the new configuration was not loaded"
decoy_suite "without a realm, after a reload" "$OLD"
start_client c3 "$NS_C1" alice alice-pw
expect_refused c3 "openconnect without the secret (404)"
cookie=$(CLIENT_URL="$BASE/?$SECRET" get_cookie "$NS_C1" alice alice-pw) ||
	fail "openconnect --authenticate with the new secret failed"
[ -n "$cookie" ] || fail "openconnect --authenticate with the new secret: no cookie"
log "the new secret lets openconnect log in"
pass
