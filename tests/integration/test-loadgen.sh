#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the scale benchmark's load generator (tests/bench/sluice-loadgen) against
# the real server. 100 sessions from 20 source addresses of the client namespace, a
# fifth of them pinging the server's tunnel address: first TLS only, then with DTLS,
# each run held for a few seconds once all are up and then ended with SIGTERM (the
# load generator logs out and reports). sluicectl must show the 100 sessions (one per
# loadgen hostname, from the 20 addresses), the report must add up (established,
# failures, latency percentiles in order, pings answered; with DTLS every session on
# DTLS and the pings carried by UDP), and after the run no session may be left. Then a run with a quarter of wrong
# passwords: exactly those are counted as login_refused, and not retried. The server is
# accepted through --cafile too, and refused (tls) under the pin of another key.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq
require_cmd openssl
LOADGEN=$top_builddir/tests/bench/sluice-loadgen
it_init
[ -x "$LOADGEN" ] || fail "no $LOADGEN; build first"
require_ctl

N=100
SOURCES=20
PINGERS=20
# alice's password as a SHA-512 crypt hash: sluice-passwd's yescrypt costs sec tens of
# milliseconds a login, one login at a time, which would make the ramp of 100 logins
# take as long as the machine is busy. keepalive and dpd are short enough that both
# run while the sessions are held.
make_certs
PASSWD_FILE=$WORK/passwd
echo "alice:*:$(openssl passwd -6 alice-pw)" >"$PASSWD_FILE" || fail "no SHA-512 crypt hash"
write_config "max-clients = 256
max-same-clients = 0
keepalive = 3
dpd = 5"
start_server

src_first=198.18.0.10
src_last=198.18.0.$((10 + SOURCES - 1))
for i in $(seq 10 $((10 + SOURCES - 1))); do
	check_addr "198.18.0.$i"
	ip -n "$NS_C1" addr add "198.18.0.$i/32" dev eth0 || fail "cannot add 198.18.0.$i"
done
# The server side of every tunnel: the pool's first address.
TARGET=198.19.0.1
check_addr $TARGET

# How the load generator checks the server.
VERIFY=(--pin "$PIN")

# loadgen NAME ARGS...: runs the load generator in client namespace 1, in the
# background (bounded by timeout); its report goes to $WORK/NAME.out.
loadgen()
{
	local name=$1
	shift
	ip netns exec "$NS_C1" timeout 90 "$LOADGEN" --server "$SRV_IP1" "${VERIFY[@]}" \
		--source "$src_first-$src_last" --user alice --password alice-pw \
		--progress 2 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	LOADGEN_PID=$!
	OWN_PIDS+=("$LOADGEN_PID")
}

# wait_loadgen NAME SECONDS: waits for the load generator to exit 0 (bounded).
wait_loadgen()
{
	local i
	for i in $(seq 1 $(($2 * 10))); do
		if ! kill -0 "$LOADGEN_PID" 2>/dev/null; then
			wait "$LOADGEN_PID" || fail "$1: loadgen exited $?: $(tail -n 5 "$WORK/$1.err")"
			return 0
		fi
		sleep 0.1
	done
	fail "$1: loadgen still runs after $2 s"
}

# users_count: the number of sessions sluicectl shows.
users_count() { ctl --json show users | jq length; }

# wait_users COUNT SECONDS [NAME]: waits until sluicectl shows COUNT sessions; on
# failure shows what run NAME's load generator printed.
wait_users()
{
	local i n
	for i in $(seq 1 $(($2 * 2))); do
		n=$(users_count)
		[ "$n" = "$1" ] && return 0
		sleep 0.5
	done
	[ -n "${3:-}" ] && tail -n 30 "$WORK/$3.err" "$WORK/$3.out"
	fail "sluicectl shows $n sessions after $2 s, expected $1"
}

# Seconds a run holds its N sessions once sluicectl shows them all.
HOLD=6

# check_held NAME: while the run holds its sessions, sluicectl shows all N, each from
# one of the source addresses, each with its own loadgen hostname, all with TARGET as
# the server's end of the tunnel.
check_held()
{
	local j
	wait_users $N 40 "$1"
	j=$(ctl --json show users) || fail "$1: sluicectl show users failed"
	[ "$(jq '[.[].Hostname] | unique | length' <<<"$j")" = $N ] ||
		fail "$1: not $N distinct loadgen hostnames"
	[ "$(jq -r '[.[]."Remote IP"] | unique | length' <<<"$j")" = $SOURCES ] ||
		fail "$1: sessions not from $SOURCES source addresses"
	jq -r '.[]."Remote IP"' <<<"$j" | while read -r a; do check_addr "$a"; done
	[ "$(jq -r '[.[]."P-t-P IPv4"] | unique | join(",")' <<<"$j")" = $TARGET ] ||
		fail "$1: the server's tunnel address is not $TARGET"
	log "$1: sluicectl shows $N sessions from $SOURCES addresses"
}

# check_report NAME: the JSON report of a run of N sessions without failures.
check_report()
{
	local r=$WORK/$1.out
	jq -e . "$r" >/dev/null || fail "$1: the report is not JSON: $(cat "$r")"
	jq -e --argjson n $N '.target == $n and .started == $n and .established == $n and
		.held == $n and .peak_held == $n and .logged_out == $n and .failed == 0 and
		.retries == 0 and ([.failures[]] | add) == 0' "$r" >/dev/null ||
		fail "$1: the report does not add up: $(cat "$r")"
	jq -e --argjson n $N '.latency_ms | .n == $n and .p50 > 0 and .p50 <= .p90 and
		.p90 <= .p99 and .p99 <= .max' "$r" >/dev/null ||
		fail "$1: latency percentiles out of order: $(jq -c .latency_ms "$r")"
	# Every pinger has pinged (every 2 s while held) and had its pings answered; only
	# its last may still be in flight when the run ends. A lost one would have shown
	# as failures.ping_lost.
	jq -e --argjson p $PINGERS '.pings | .sent >= $p and .answered >= $p and
		.answered >= .sent - $p' "$r" >/dev/null ||
		fail "$1: pings not answered: $(jq -c .pings "$r")"
	grep -q 'loadgen: t=.*established=' "$WORK/$1.err" || fail "$1: no progress lines"
	log "$1: $(jq -c '{established, failed, latency_ms, pings, dtls}' "$r")"
	log "$1: $(grep 'loadgen: t=' "$WORK/$1.err" | tail -n 1)"
}

# run_held NAME ARGS...: a run of N sessions (--duration only bounds it): waits until
# sluicectl shows them all, holds them HOLD seconds, then ends the run with SIGTERM, on
# which the load generator logs every session out and reports.
run_held()
{
	local name=$1
	shift
	loadgen "$name" --sessions "$N" --rate 25 --duration 90 --ping-target "$TARGET" \
		--ping-share 0.2 --ping-interval 2 --json "$@"
	check_held "$name"
	sleep $HOLD
	kill -TERM "$LOADGEN_PID"
	wait_loadgen "$name" 20
	check_report "$name"
}

# --- TLS only ---------------------------------------------------------------------------
run_held tls
jq -e '.dtls.enabled == false and .dtls.up == 0' "$WORK/tls.out" >/dev/null ||
	fail "tls: DTLS used without --dtls"
wait_users 0 15
log "tls: every session gone after the run"

# --- with DTLS --------------------------------------------------------------------------
udp_in0=$(udp_counters | awk '{ print $1 }')
run_held dtls --dtls
jq -e --argjson n $N '.dtls.enabled and .dtls.up == $n and .dtls.failed == 0' \
	"$WORK/dtls.out" >/dev/null || fail "dtls: not every session on DTLS: $(jq -c .dtls "$WORK/dtls.out")"
# The pings went over UDP: the server received at least a datagram per ping.
udp_in=$(($(udp_counters | awk '{ print $1 }') - udp_in0))
sent=$(jq .pings.sent "$WORK/dtls.out")
[ "$udp_in" -ge "$sent" ] || fail "dtls: the server received $udp_in datagrams for $sent pings"
[ "$(grep -c 'DTLS established: ' "$SERVER_LOG")" -ge $N ] ||
	fail "sluiced logged fewer than $N 'DTLS established'"
wait_users 0 15
log "dtls: $udp_in datagrams for $sent pings; every session gone after the run"

# --- a quarter of wrong passwords, on purpose ----------------------------------------------
loadgen badpw --sessions 20 --rate 20 --duration 90 --bad-password-share 0.25 --retry 2
wait_users 15 30 badpw
sleep 1 # a wrong password that were retried would be seen by now
kill -TERM "$LOADGEN_PID"
wait_loadgen badpw 20
out=$WORK/badpw.out
grep -Eq '^established +15$' "$out" || fail "badpw: not 15 established: $(cat "$out")"
grep -Eq '^  login_refused +5$' "$out" || fail "badpw: not 5 login_refused: $(cat "$out")"
grep -Eq '^failed +5$' "$out" || fail "badpw: other failures: $(cat "$out")"
grep -Eq '^attempts started +20 \(retries 0\)$' "$out" || fail "badpw: wrong passwords retried: $(cat "$out")"
wait_users 0 15
log "badpw: 15 established, 5 login_refused, none retried"

# --- the server's certificate is checked ---------------------------------------------------
VERIFY=(--cafile "$CA_CERT")
loadgen cafile --sessions 2 --rate 10 --duration 90 --json
wait_users 2 30 cafile
kill -TERM "$LOADGEN_PID"
wait_loadgen cafile 20
jq -e '.established == 2 and .failed == 0' "$WORK/cafile.out" >/dev/null ||
	fail "cafile: sessions not established with the CA: $(cat "$WORK/cafile.out")"
# A pin of another key (the CA's): every session fails in TLS, nothing is sent.
VERIFY=(--pin "$(compute_pin "$CA_CERT")")
# (the run stops by itself once every session has failed)
loadgen badpin --sessions 2 --rate 10 --duration 90 --json
wait_loadgen badpin 30
jq -e '.established == 0 and .failures.tls == 2' "$WORK/badpin.out" >/dev/null ||
	fail "badpin: a server with another key accepted: $(cat "$WORK/badpin.out")"
VERIFY=(--pin "$PIN")
log "cafile: 2 established; a wrong pin: 2 tls failures"

# --- a target that does not fit the descriptor limit is refused before anything runs ------
(ulimit -n 64 && ip netns exec "$NS_C1" "$LOADGEN" --server "$SRV_IP1" --pin "$PIN" \
	--source "$src_first" --user alice --password alice-pw --sessions 100) \
	>"$WORK/nofile.out" 2>&1 && fail "100 sessions accepted with 64 descriptors"
grep -q 'at most 32 sessions fit' "$WORK/nofile.out" ||
	fail "no clear descriptor message: $(cat "$WORK/nofile.out")"
# ... and an address outside 198.18.0.0/15.
"$LOADGEN" --server 192.0.2.1 --pin "$PIN" --source "$src_first" --user a --password b \
	>"$WORK/range.out" 2>&1 && fail "a server outside 198.18.0.0/15 accepted"
grep -q 'refusing 192.0.2.1' "$WORK/range.out" || fail "no refusal message: $(cat "$WORK/range.out")"
pass "100 sessions held over TLS and DTLS, pings answered, wrong passwords counted"
