#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# The FreeRADIUS fixture of radius.sh, checked with radclient from the server namespace:
# it listens on 127.0.0.1 only; alice is accepted with her Class and Filter-Id and
# rejected (with no reply items) on a wrong password; bob's Access-Accept holds his
# address and the Microsoft DNS attribute; carol's password brings a challenge whose
# State and code 123456 bring Access-Accept, once; slow's answer takes 10 s while alice
# is answered at once; accounting Start, Interim-Update and Stop land in the detail file
# and radius_acct_value reads them back; after a restart a user given to radius_start is
# known.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/radius.sh"
require_cmd freeradius radclient ss
it_init
radius_start

# auth USER PASSWORD [MORE-ATTRIBUTE-LINES]: radius_request auth for a PAP user; prints
# radclient's output.
auth()
{
	printf 'User-Name = "%s"\nUser-Password = "%s"\n%s\n' "$1" "$2" "${3:-}" |
		radius_request auth "${@:4}"
}

# reply OUTPUT: the attribute lines of the packet radclient received.
reply() { sed -n '/^Received /,$p' <<<"$1" | sed -n 's/^\t//p'; }

# expect_reply WHAT OUTPUT CODE [LINE...]: the answer was packet CODE (Access-Accept...)
# with each "Name = value" LINE among its attributes.
expect_reply()
{
	local what=$1 out=$2 code=$3 l
	shift 3
	grep -q "^Received $code " <<<"$out" || {
		printf '%s\n' "$out"
		radius_fail "$what: no $code"
	}
	for l in "$@"; do
		reply "$out" | grep -qxF -- "$l" || {
			printf '%s\n' "$out"
			radius_fail "$what: no '$l' in the $code"
		}
	done
}

# Listens on the loopback address only, in the server namespace.
socks=$(ip netns exec "$NS_SRV" ss -Hlunp | grep '"freeradius"')
log "FreeRADIUS sockets: $(awk '{ printf "%s ", $4 }' <<<"$socks")"
[ "$(wc -l <<<"$socks")" = 2 ] || fail "FreeRADIUS does not have exactly two sockets: $socks"
grep -q " $RADIUS_ADDR:$RADIUS_AUTH_PORT " <<<"$socks" || fail "no auth socket on $RADIUS_ADDR"
grep -q " $RADIUS_ADDR:$RADIUS_ACCT_PORT " <<<"$socks" || fail "no acct socket on $RADIUS_ADDR"

out=$(auth alice alice-pw)
# Class is an octets attribute: radclient shows "staff" in hex.
expect_reply "alice" "$out" Access-Accept 'Class = 0x7374616666' 'Filter-Id = "staff"'
log "alice: Access-Accept with Class and Filter-Id staff"

out=$(auth alice wrong-pw)
expect_reply "alice, wrong password" "$out" Access-Reject
[ -z "$(reply "$out")" ] || fail "the Access-Reject carries attributes: $(reply "$out")"
log "alice, wrong password: Access-Reject without attributes"

out=$(auth bob bob-pw)
expect_reply "bob" "$out" Access-Accept 'Framed-IP-Address = 198.19.0.77' \
	'Framed-IP-Netmask = 255.255.255.0' 'Framed-Route = "198.18.50.0/24"' \
	'MS-Primary-DNS-Server = 198.18.0.53' 'Framed-IPv6-Prefix = fd00:19::/64' \
	'Session-Timeout = 3600' 'Idle-Timeout = 600' 'Acct-Interim-Interval = 60'
log "bob: Access-Accept with address, route, DNS server, timeouts"

# carol: challenge, then the code with the State of that challenge.
out=$(auth carol carol-pw)
expect_reply "carol" "$out" Access-Challenge 'Reply-Message = "Enter your code"'
state=$(reply "$out" | sed -n 's/^State = \(0x[0-9a-f]*\)$/\1/p')
[ -n "$state" ] || fail "carol's challenge has no State: $out"
out=$(auth carol 123456 "State = $state")
expect_reply "carol's code" "$out" Access-Accept
log "carol: Access-Challenge (State $state), then Access-Accept for her code"
out=$(auth carol 123456 "State = $state")
expect_reply "carol's code again with a used State" "$out" Access-Reject
out=$(auth carol 123456)
expect_reply "carol's code without State" "$out" Access-Reject
out=$(auth carol carol-pw)
state=$(reply "$out" | sed -n 's/^State = \(0x[0-9a-f]*\)$/\1/p')
[ -n "$state" ] || fail "carol's second challenge has no State: $out"
out=$(auth carol 654321 "State = $state")
expect_reply "carol's wrong code" "$out" Access-Reject
log "carol: a used State, no State and a wrong code get Access-Reject"

# slow is answered after RADIUS_SLOW_SECONDS; alice, asked while slow's request is being
# processed, is answered at once. radclient must not resend slow's request meanwhile.
t0=$EPOCHREALTIME
auth slow slow-pw '' -t $((RADIUS_SLOW_SECONDS + 10)) -r 1 >"$WORK/slow.out" &
slow_pid=$!
OWN_PIDS+=("$slow_pid")
for _ in $(seq 1 30); do
	grep -q 'User-Name = "slow"' "$RADIUS_LOG" && break
	sleep 0.1
done
grep -q 'User-Name = "slow"' "$RADIUS_LOG" || radius_fail "slow's request did not arrive"
t1=$EPOCHREALTIME
out=$(auth alice alice-pw)
t2=$EPOCHREALTIME
expect_reply "alice beside slow" "$out" Access-Accept
kill -0 "$slow_pid" 2>/dev/null || fail "slow was answered before alice: $(cat "$WORK/slow.out")"
wait "$slow_pid"
t3=$EPOCHREALTIME
expect_reply "slow" "$(cat "$WORK/slow.out")" Access-Accept
# EPOCHREALTIME has six decimals: without its separator it counts microseconds.
alice_ms=$(((${t2//[.,]/} - ${t1//[.,]/}) / 1000))
slow_ms=$(((${t3//[.,]/} - ${t0//[.,]/}) / 1000))
log "slow: Access-Accept after $slow_ms ms; alice meanwhile after $alice_ms ms"
[ "$alice_ms" -lt 2000 ] || fail "alice took $alice_ms ms while slow was pending"
[ "$slow_ms" -ge $(((RADIUS_SLOW_SECONDS - 1) * 1000)) ] || fail "slow took only $slow_ms ms"

# Accounting: every request is answered and recorded.
acct()
{
	printf 'Acct-Status-Type = %s\nUser-Name = "bob"\nAcct-Session-Id = "sl-acct-1"\n%s\n' \
		"$1" "$2" | radius_request acct
}
for r in "Start|Framed-IP-Address = 198.19.0.77" \
	"Interim-Update|Acct-Input-Octets = 1000
Acct-Output-Octets = 2000
Acct-Session-Time = 60" \
	"Stop|Acct-Input-Octets = 4242
Acct-Output-Octets = 8484
Acct-Session-Time = 75
Acct-Terminate-Cause = User-Request"; do
	out=$(acct "${r%%|*}" "${r#*|}")
	grep -q '^Received Accounting-Response ' <<<"$out" || {
		printf '%s\n' "$out"
		radius_fail "no Accounting-Response to the ${r%%|*}"
	}
done
radius_detail_has $'^\tAcct-Status-Type = Stop$' || radius_fail "no Stop in $RADIUS_DETAIL"
for c in "Start Acct-Session-Id sl-acct-1" "Start Framed-IP-Address 198.19.0.77" \
	"Interim-Update Acct-Input-Octets 1000" "Stop Acct-Input-Octets 4242" \
	"Stop Acct-Output-Octets 8484" "Stop Acct-Session-Id sl-acct-1" \
	"Stop Acct-Terminate-Cause User-Request"; do
	read -r st at want <<<"$c"
	got=$(radius_acct_value "$st" "$at") || fail "radius_acct_value $st $at: none"
	[ "$got" = "$want" ] || fail "radius_acct_value $st $at: '$got', not '$want'"
done
radius_acct_value Start Acct-Input-Octets >/dev/null && fail "Start has Acct-Input-Octets"
[ "$(grep -c $'^\tAcct-Status-Type = ' "$RADIUS_DETAIL")" = 3 ] ||
	fail "$RADIUS_DETAIL does not hold 3 records"
log "accounting: Start, Interim-Update, Stop answered and read back from the detail file"

# A restart with a user of the test's own.
radius_stop
radius_start $'dave\tCleartext-Password := "dave-pw"\n\tReply-Message := "hello dave"'
out=$(auth dave dave-pw)
expect_reply "dave" "$out" Access-Accept 'Reply-Message = "hello dave"'
out=$(auth alice alice-pw)
expect_reply "alice after the restart" "$out" Access-Accept
log "restarted with an extra user: dave accepted"
pass
