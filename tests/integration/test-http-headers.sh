#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# included-http-headers, side by side with Debian's ocserv: the same requests (curl) on
# both servers with the same two header lines configured. Every response that carries
# them from ocserv carries them from sluiced, each once and in the file's order; the
# CONNECT reply carries them from neither. sluiced also adds them to its 404 (ocserv's
# 404 page goes without; a page is a page to a browser, which is what the headers are
# for). With camouflage (which ocserv 1.1.6 lacks) the decoy stays byte for byte what it
# is without the key, and a request with the secret gets the lines.
. "$(dirname "$0")/lib.sh"
require_cmd curl
[ -x /usr/sbin/ocserv ] || fail "ocserv missing (Debian: apt-get install ocserv)"
it_init
make_certs
add_user alice alice-pw

LINES=('X-Frame-Options: deny' 'Clear-Site-Data: "cache","cookies","storage"')
HEADERS=$(printf 'included-http-headers = %s\n' "${LINES[@]}")
SECRET=migrate-secret-0123456789
URL=https://$SRV_IP1:$PORT
XML='<?xml version="1.0" encoding="UTF-8"?><config-auth client="vpn" type="%s">%s</config-auth>'

# fetch NAME [curl options...]: the response's status line and headers (no CR) in
# $WORK/NAME.hdr.
fetch()
{
	local name=$1
	shift
	ip netns exec "$NS_C1" curl -sk -m 10 -D - -o /dev/null -A 'Open AnyConnect VPN Agent' \
		-H 'X-Aggregate-Auth: 1' "$@" | tr -d '\r' >"$WORK/$name.hdr"
	[ -s "$WORK/$name.hdr" ] || fail "$name: no response from $SERVER"
}

# probe SERVER-NAME: the requests of the comparison, on the server that runs.
probe()
{
	local p=$1
	fetch "$p-get" "$URL/"
	fetch "$p-init" --data "$(printf "$XML" init '<version who="vpn">9.01</version>')" "$URL/"
	fetch "$p-login" --data "$(printf "$XML" auth-reply \
		'<auth><username>alice</username><password>alice-pw</password></auth>')" "$URL/auth"
	fetch "$p-wrong" --data "$(printf "$XML" auth-reply \
		'<auth><username>alice</username><password>wrong</password></auth>')" "$URL/auth"
	fetch "$p-404" "$URL/no/such/page"
	start_client c "$NS_C1" alice alice-pw --dump-http-traffic -v
	wait_tunnel c 20 >/dev/null || fail "no tunnel on $SERVER"
	sed -n '/^Got CONNECT response/,/^CSTP connected/p' "${CLIENT_LOG[c]}" >"$WORK/$p-connect.hdr"
	grep -q '^X-CSTP-Version' "$WORK/$p-connect.hdr" || fail "$p: no CONNECT reply in the client log"
	stop_client c
}

# carries FILE: 0 if the response has every configured line once, in order; 1 if it has
# none of them; fails the test if it has some.
carries()
{
	local got
	got=$(grep -Fx -f <(printf '%s\n' "${LINES[@]}") "$1")
	[ -z "$got" ] && return 1
	[ "$got" = "$(printf '%s\n' "${LINES[@]}")" ] || fail "$(basename "$1"): the lines, not once each in order: $got"
}

SERVER=ocserv write_config "$HEADERS"
SERVER=ocserv start_server
SERVER=ocserv probe ocserv
SERVER=ocserv stop_server
SERVER_LOG=$WORK/sluiced.log
write_config "$HEADERS"
start_server
probe sluice
stop_server

# Where sluiced adds the lines and ocserv does not, on purpose.
declare -A OWN=([404]="ocserv's 404 page goes without; sluiced's responses all carry them")
bugs=0
for r in get init login wrong 404 connect; do
	o=no s=no
	carries "$WORK/ocserv-$r.hdr" && o=yes
	carries "$WORK/sluice-$r.hdr" && s=yes
	log "$r: ocserv $o, sluiced $s ($(head -n 1 "$WORK/sluice-$r.hdr"))"
	if [ $o = yes ] && [ $s = no ]; then
		log "FAIL: $r: ocserv's response carries the lines, sluiced's does not"
		bugs=$((bugs + 1))
	elif [ $o = no ] && [ $s = yes ] && [ -z "${OWN[$r]:-}" ]; then
		log "FAIL: $r: sluiced adds the lines where ocserv does not"
		bugs=$((bugs + 1))
	elif [ $o != $s ]; then
		log "$r: on purpose: ${OWN[$r]}"
	fi
done
[ $bugs = 0 ] || fail "$bugs response(s) differ from ocserv's"
carries "$WORK/sluice-get.hdr" || fail "sluiced's login form lacks the lines"
carries "$WORK/sluice-connect.hdr" && fail "sluiced's CONNECT reply carries the lines"
grep -q '^Set-Cookie: webvpn=' "$WORK/sluice-login.hdr" || fail "sluiced's login did not succeed"

# Camouflage: the decoy with and without the key, the Date header aside.
camo="camouflage = true
camouflage_secret = $SECRET
camouflage_realm = Staff only"
for with in no yes; do
	write_config "$camo$([ $with = yes ] && printf '\n%s' "$HEADERS")"
	start_server
	fetch "decoy-$with" "$URL/"
	ip netns exec "$NS_C1" curl -sk -m 10 "$URL/" >"$WORK/decoy-$with.body"
	fetch "secret-$with" "$URL/?$SECRET"
	stop_server
done
grep -q '^HTTP/1.1 401' "$WORK/decoy-yes.hdr" || fail "no decoy: $(head -n 1 "$WORK/decoy-yes.hdr")"
diff <(grep -v '^Date:' "$WORK/decoy-no.hdr") <(grep -v '^Date:' "$WORK/decoy-yes.hdr") ||
	fail "the decoy's headers change with included-http-headers"
cmp -s "$WORK/decoy-no.body" "$WORK/decoy-yes.body" || fail "the decoy's page changes"
carries "$WORK/secret-yes.hdr" || fail "a request with the secret lacks the lines"
carries "$WORK/secret-no.hdr" && fail "the lines without the key"
pass "included-http-headers where ocserv puts them (and on the 404), not on the decoy"
