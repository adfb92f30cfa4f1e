#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# CSTP bytes that arrive in the same TLS record as the CONNECT request are the
# tunnel's first frames: a DPD request sent with the CONNECT gets its DPD response
# right after the 200 answer. The client is gnutls-cli (a record per write of up to
# 4 KiB) with the session cookie of an openconnect --authenticate.
. "$(dirname "$0")/lib.sh"
it_init
require_cmd gnutls-cli
require_cmd od
setup_server

# connect_with NAME EXTRA-FILE: sends a CONNECT with a fresh session cookie and, in the
# same write, the bytes of EXTRA-FILE, from client namespace 1; keeps the connection open
# 3 s; the server's bytes go to $WORK/NAME.out.
connect_with()
{
	local cookie
	cookie=$(get_cookie "$NS_C1" alice alice-pw) || fail "$1: no cookie"
	# openconnect prints its strap key too: the session cookie is webvpn's value.
	cookie=${cookie##*webvpn=}
	[ -n "$cookie" ] || fail "$1: empty cookie"
	{
		printf 'CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: %s\r\nCookie: webvpn=%s\r\n' \
			"$SRV_IP1" "$cookie"
		printf 'X-CSTP-Version: 1\r\nX-CSTP-Address-Type: IPv4\r\nX-CSTP-MTU: 1400\r\n\r\n'
		cat "$2"
	} >"$WORK/$1.req"
	{
		cat "$WORK/$1.req"
		sleep 3
	} | ip netns exec "$NS_C1" timeout 15 gnutls-cli --insecure --logfile=/dev/null \
		-p "$PORT" "$SRV_IP1" >"$WORK/$1.out" 2>"$WORK/$1.err"
}

# A DPD request (type 3, no payload) behind the CONNECT.
printf 'STF\001\000\000\003\000' >"$WORK/dpd.bin"
connect_with dpd "$WORK/dpd.bin"
grep -aq '^HTTP/1.1 200' "$WORK/dpd.out" || fail "dpd: no 200 answer: $(head -c 300 "$WORK/dpd.out")"
# The DPD response (type 4) follows the answer's header block.
od -An -tx1 -v "$WORK/dpd.out" | tr -d ' \n' | grep -q '5354460100000400' ||
	fail "dpd: no DPD response to the early DPD request"
log "dpd: the DPD request sent with the CONNECT was answered"

pass "a DPD request sent with the CONNECT is the tunnel's first frame"
