#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: rx-data-per-sec and tx-data-per-sec from a per-user file, with the real
# client. alice's file limits her to 250000 bytes/s towards her client (tx) and 125000
# bytes/s from it (rx): iperf3 through her tunnel, 3 s each way, measures between 0.5x
# and 1.3x of each limit, over TLS and over DTLS. bob, on the same server without a
# file, gets more than 4x either limit. sluicectl show user --json shows the limits.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd iperf3 jq
it_init
require_ctl

TX=250000 # bytes/s to alice's client
RX=125000 # bytes/s from it
mkdir -p "$WORK/users"
printf 'tx-data-per-sec = %s\nrx-data-per-sec = %s\n' $TX $RX >"$WORK/users/alice"
make_certs
add_user alice alice-pw
add_user bob bob-pw
write_config "config-per-user = $WORK/users"
start_server

# within MBITS LIMIT-BYTES LOW HIGH: MBITS (iperf_run's figure) is between LOW and
# HIGH times the limit.
within()
{
	awk -v m="$1" -v l="$2" -v lo="$3" -v hi="$4" \
		'BEGIN { r = m * 1e6 / 8 / l; exit !(r >= lo && r <= hi) }'
}

# limited NAME CHANNEL: alice's session NAME is shaped both ways.
limited()
{
	local name=$1 channel=$2 vpn srv up down
	vpn=$(client_addr "$name")
	srv=$(server_tun_ip "$vpn") || fail "no server side for $vpn"
	up=$(iperf_run "${CLIENT_NS[$name]}" "$srv") || fail "iperf3 client->server failed"
	down=$(iperf_run "${CLIENT_NS[$name]}" "$srv" -R) || fail "iperf3 server->client failed"
	log "alice over $channel: client->server $up Mbit/s (rx limit $RX B/s)," \
		"server->client $down Mbit/s (tx limit $TX B/s)"
	within "$up" $RX 0.5 1.3 || fail "alice over $channel sent $up Mbit/s, limit $RX bytes/s"
	within "$down" $TX 0.5 1.3 || fail "alice over $channel got $down Mbit/s, limit $TX bytes/s"
}

start_client c1 "$NS_C1" alice alice-pw
wait_tunnel c1 15 >/dev/null || fail "no tunnel for alice"
server_log_has "bandwidth limits: rx $RX bytes/s, tx $TX bytes/s" 5 ||
	fail "alice's worker did not log her limits"
limited c1 TLS

start_client c2 "$NS_C2" bob bob-pw
bob=$(wait_tunnel c2 15) || fail "no tunnel for bob"
ctl --json show user alice | jq -e --argjson rx $RX --argjson tx $TX \
	'.[0]."Limit RX" == $rx and .[0]."Limit TX" == $tx' >/dev/null ||
	fail "show user alice: $(ctl --json show user alice)"
ctl --json show user bob | jq -e '.[0]."Limit RX" == 0 and .[0]."Limit TX" == 0' >/dev/null ||
	fail "show user bob: $(ctl --json show user bob)"
ctl show user alice | grep -Eq "Limit TX: +$TX" || fail "show user alice: $(ctl show user alice)"
stop_client c1

srv=$(server_tun_ip "$bob") || fail "no server side for $bob"
up=$(iperf_run "$NS_C2" "$srv") || fail "iperf3 client->server failed for bob"
down=$(iperf_run "$NS_C2" "$srv" -R) || fail "iperf3 server->client failed for bob"
log "bob (no limits): client->server $up Mbit/s, server->client $down Mbit/s"
within "$up" $RX 4 1e9 || fail "bob sent only $up Mbit/s: more than 4x $RX bytes/s expected"
within "$down" $TX 4 1e9 || fail "bob got only $down Mbit/s: more than 4x $TX bytes/s expected"
stop_client c2

CLIENT_DTLS=yes
start_client c3 "$NS_C1" alice alice-pw
wait_dtls c3 15 >/dev/null || fail "alice's client established no DTLS session"
wait_tunnel c3 15 >/dev/null || fail "no second tunnel for alice"
limited c3 DTLS
pass "rx-data-per-sec and tx-data-per-sec over TLS and DTLS, show user"
