#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: RADIUS Dynamic Authorization (RFC 5176) on radius-dae-listen, driven by
# FreeRADIUS's radclient from the server's namespace:
# - a CoA-Request with RP speed limits changes alice's limits live (sluicectl shows
#   them and her worker applies them);
# - a Disconnect-Request by Acct-Session-Id ends bob's tunnel at once (Disconnect-ACK);
#   one for a session that does not exist gets a NAK (Session-Context-Not-Found);
# - a request without Event-Timestamp gets a NAK (Missing-Attribute); one with an old
#   Event-Timestamp, one made with another secret, and one from an address that is not a
#   radius-dae-client get no answer at all and change nothing;
# - a request sent twice is answered twice but applied once, and its Session-Timeout
#   ends alice's session when it runs out.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd radclient jq python3
it_init
require_ctl
make_certs
add_user alice alice-pw
add_user bob bob-pw
SECRET=dae-secret-$$
printf '%s\n' "$SECRET" >"$WORK/dae.secret"
chmod 600 "$WORK/dae.secret"
DAE=127.0.0.1:3799
write_config "radius-dae-listen = $DAE
radius-dae-secret-file = $WORK/dae.secret
radius-dae-client = 127.0.0.1"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) || fail "sluiced -t: $out"
start_server
server_log_has "RADIUS DAE: listening on $DAE" 10 || fail "the DAE helper does not listen"

# dae TYPE ATTRIBUTES [SECRET]: radclient's output for one request (one try).
dae()
{
	printf '%s\n' "$2" | ip netns exec "$NS_SRV" timeout 10 radclient -x -r 1 -t 2 \
		"$DAE" "$1" "${3:-$SECRET}" 2>&1
}
# dae_raw SOURCE COUNT ID SID SESSION_TIMEOUT: a CoA-Request made here (radclient cannot
# choose its source address or send one packet twice), sent COUNT times from SOURCE in
# the server's namespace; prints the code of each answer ("none" when there is none).
cat >"$WORK/dae.py" <<'PY'
import hashlib, socket, struct, sys, time
secret, src, count, ident, sid, timeout = sys.argv[1].encode(), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].encode(), int(sys.argv[6])
attrs = bytes([44, 2 + len(sid)]) + sid
attrs += bytes([27, 6]) + struct.pack(">I", timeout)
attrs += bytes([55, 6]) + struct.pack(">I", int(time.time()))
hdr = bytes([43, ident]) + struct.pack(">H", 20 + len(attrs))
pkt = hdr + hashlib.md5(hdr + b"\0" * 16 + attrs + secret).digest() + attrs
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(2)
for _ in range(count):
    s.sendto(pkt, ("127.0.0.1", 3799))
    try:
        print(s.recvfrom(4096)[0][0])
    except socket.timeout:
        print("none")
PY
dae_raw() { ip netns exec "$NS_SRV" python3 "$WORK/dae.py" "$SECRET" "$@"; }
now() { date +%s; }
sid()
{
	sed -n "s/.*session start: sid=\([0-9a-f]*\) user=$1 .*/\1/p" "$SERVER_LOG" | tail -n 1
}

start_client a1 "$NS_C1" alice alice-pw
wait_tunnel a1 20 >/dev/null || fail "no tunnel for alice"
A=$(sid alice)
start_client b1 "$NS_C2" bob bob-pw
wait_tunnel b1 20 >/dev/null || fail "no tunnel for bob"
B=$(sid bob)

# CoA: new speed limits, live.
out=$(dae coa "Acct-Session-Id = \"$A\", RP-Upstream-Speed-Limit = 800, RP-Downstream-Speed-Limit = 1600, Event-Timestamp = $(now)")
grep -q "CoA-ACK" <<<"$out" || fail "no CoA-ACK: $out"
json=$(ctl --json show user alice)
[ "$(jq -r '.[0]["Limit RX"]' <<<"$json")" = 100000 ] && [ "$(jq -r '.[0]["Limit TX"]' <<<"$json")" = 200000 ] ||
	fail "the CoA's limits are not alice's: $json"
server_log_has "bandwidth limits changed: rx 100000 bytes/s, tx 200000 bytes/s" 5 ||
	fail "alice's worker did not apply the new limits"
log "CoA: alice's limits changed live"

# Refused and dropped requests change nothing.
out=$(dae disconnect "Acct-Session-Id = \"$A\"")
grep -q "Disconnect-NAK" <<<"$out" && grep -q "Error-Cause = Missing-Attribute" <<<"$out" ||
	fail "no NAK (Missing-Attribute) without Event-Timestamp: $out"
out=$(dae disconnect "Acct-Session-Id = \"$A\", Event-Timestamp = $(($(now) - 1000))")
grep -q "Disconnect-ACK\|Disconnect-NAK" <<<"$out" && fail "an old Event-Timestamp was answered: $out"
server_log_has "Event-Timestamp .* is more than 300 s from now" 5 || fail "no log of the stale request"
out=$(dae disconnect "Acct-Session-Id = \"$A\", Event-Timestamp = $(now)" wrong-secret)
grep -q "Disconnect-ACK\|Disconnect-NAK" <<<"$out" && fail "a request with another secret was answered: $out"
server_log_has "wrong Request Authenticator" 5 || fail "no log of the wrong secret"
ip -n "$NS_SRV" addr add 127.0.0.2/8 dev lo 2>/dev/null
out=$(dae_raw 127.0.0.2 1 60 "$A" 1)
[ "$out" = none ] || fail "a request from 127.0.0.2 was answered: $out"
server_log_has "a datagram from 127.0.0.2, not a radius-dae-client: dropped" 5 ||
	fail "no log of the foreign client"
[ -n "$(client_addr a1)" ] && kill -0 "${CLIENT_PID[a1]}" || fail "a refused request ended alice's tunnel"
log "no Event-Timestamp: NAK; stale, wrong secret, foreign client: dropped; alice still up"

# Disconnect: bob's tunnel ends; a request for no session gets a NAK.
out=$(dae disconnect "Acct-Session-Id = \"$B\", Event-Timestamp = $(now)")
grep -q "Disconnect-ACK" <<<"$out" || fail "no Disconnect-ACK: $out"
wait_client_exit b1 10
[ $? != 124 ] || fail "bob's client still runs after the Disconnect-Request"
out=$(dae disconnect "Acct-Session-Id = \"000000000000\", Event-Timestamp = $(now)")
grep -q "Disconnect-NAK" <<<"$out" && grep -q "Error-Cause = Session-Context-Not-Found" <<<"$out" ||
	fail "no NAK for an unknown session: $out"
log "Disconnect-Request: bob's tunnel ended; an unknown session: NAK"

# The same request twice (a retransmission, or a replay within the window): answered
# twice, applied once.
out=$(dae_raw 127.0.0.1 2 77 "$A" 3 | tr '\n' ' ')
[ "$out" = "44 44 " ] || fail "the repeated CoA-Request was not answered with two CoA-ACKs: $out"
server_log_has "sent request 77 again: the same answer, not applied twice" 5 ||
	fail "the repeated request was not recognised"
[ "$(grep -c 'RADIUS CoA: session-timeout 3 s from now' "$SERVER_LOG")" = 1 ] ||
	fail "the repeated CoA-Request was applied more than once"
# The CoA's Session-Timeout ends alice's session 3 s later.
wait_client_exit a1 15
[ $? != 124 ] || fail "alice's session outlived the CoA's Session-Timeout"
server_log_has "session-timeout reached; ending session $A" 5 || fail "not ended by the session-timeout"
log "CoA Session-Timeout 3: alice's session ended; the repeated request applied once"
pass
