#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Malformed HTTP on the TLS port (garbage, a truncated request, an oversized header
# block, bad Content-Length values, a cookie longer than any valid one) gets an HTTP
# error status or a close, never a 2xx; meanwhile a connected client keeps pinging and a
# new client can log in afterwards.
. "$(dirname "$0")/lib.sh"
it_init
require_cmd gnutls-cli
setup_server

start_client c1 "$NS_C1" alice alice-pw
ip1=$(wait_tunnel c1 15) || fail "no tunnel for the bystander client"
srv1=$(server_tun_ip "$ip1")
ip netns exec "$NS_C1" ping -n -q -c 75 -i 0.2 -W 2 -w 25 "$srv1" >"$WORK/ping.out" 2>&1 &
ping_pid=$!
OWN_PIDS+=("$ping_pid")

HOLD=2
# probe NAME: sends $WORK/NAME.req over TLS from client namespace 2, keeps the
# connection open for HOLD seconds, and sets OUTCOME to "status NNN", "closed" (the
# server closed within the window) or "waited" (the server closed only after the
# client did).
probe()
{
	local out=$WORK/probe-$1.out start end status
	start=$(date +%s%N)
	{
		cat "$WORK/$1.req"
		sleep $HOLD
	} | {
		ip netns exec "$NS_C2" timeout 10 gnutls-cli --insecure -p "$PORT" "$SRV_IP2" \
			>"$out" 2>&1
		date +%s%N >"$out.end"
	}
	end=$(cat "$out.end")
	status=$(grep -a -m1 -o -E '^HTTP/1\.[01] [0-9]{3}' "$out" | awk '{ print $2 }')
	if [ -n "$status" ]; then
		OUTCOME="status $status"
	elif [ $(((end - start) / 1000000)) -lt $((HOLD * 1000 - 300)) ]; then
		OUTCOME=closed
	else
		OUTCOME=waited
	fi
	log "probe $1: $OUTCOME ($(((end - start) / 1000000)) ms)"
	case $status in 2*) fail "probe $1 got a success status $status" ;; esac
}

# error_or_close NAME: the outcome must be an error status or a prompt close.
error_or_close()
{
	case $OUTCOME in
	"status "[45]* | closed) ;;
	*) return 1 ;;
	esac
}

head -c 4096 /dev/urandom >"$WORK/garbage.req"
probe garbage
error_or_close || fail "garbage got neither an error status nor a close"

{
	printf 'GET / HTTP/1.1\r\nHost: vpn\r\n'
	for i in $(seq 1 1500); do printf 'X-Filler-%d: %0100d\r\n' "$i" 0; done
	printf '\r\n'
} >"$WORK/oversized-headers.req"
probe oversized-headers
error_or_close || fail "a 150 KiB header block got neither an error status nor a close"

# A request cut off in a header: waiting for the rest is correct; a reply is not.
printf 'POST / HTTP/1.1\r\nHost: vpn\r\nContent-Len' >"$WORK/truncated.req"
probe truncated

bad_cl=0
for cl in -5 abc 1x 99999999999999999999; do
	printf 'POST / HTTP/1.1\r\nHost: vpn\r\nContent-Length: %s\r\n\r\nabc' "$cl" \
		>"$WORK/content-length=$cl.req"
	probe "content-length=$cl"
	error_or_close || bad_cl=$((bad_cl + 1))
done
printf 'POST / HTTP/1.1\r\nHost: vpn\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nabc' \
	>"$WORK/content-length-twice.req"
probe content-length-twice
error_or_close || bad_cl=$((bad_cl + 1))
if [ $bad_cl -gt 0 ]; then
	# ocserv 1.1.6 waits for a body it can never get instead of rejecting the header.
	[ "$SERVER" = ocserv ] || fail "$bad_cl bad Content-Length requests were not rejected"
	log "KNOWN DIFFERENCE: ocserv waited on $bad_cl bad Content-Length requests"
fi

# A cookie longer than any sec issues is refused by the worker itself; relayed, main would
# end the worker for a protocol violation and the client would get no answer.
printf 'CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nHost: vpn\r\nCookie: webvpn=%0300d\r\n\r\n' 0 \
	>"$WORK/long-cookie.req"
probe long-cookie
if [ "$SERVER" = sluiced ] && [ "$OUTCOME" != "status 401" ]; then
	fail "a CONNECT with a 300-byte cookie got '$OUTCOME', not 401"
fi

wait "$ping_pid"
ping_rc=$?
log "bystander ping: $(grep -E 'packets transmitted' "$WORK/ping.out")"
[ $ping_rc = 0 ] || fail "bystander ping failed"
grep -q ' 0% packet loss' "$WORK/ping.out" || fail "bystander lost packets"
kill -0 "${CLIENT_PID[c1]}" 2>/dev/null || fail "bystander client ended"

start_client c2 "$NS_C2" alice alice-pw
ip2=$(wait_tunnel c2 15) || fail "new client cannot log in after the probes"
log "new client logged in afterwards: $ip2"
pass
