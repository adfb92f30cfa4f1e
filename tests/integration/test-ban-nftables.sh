#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: ban-nftables. sluiced makes its table in the server namespace (sets ban4,
# ban6, a chain that drops new TCP connections and UDP datagrams to port 443 from them).
# Two wrong passwords from 198.18.0.2 ban it: the address is in ban4 with a timeout of
# ban-time, a new TCP connection from it times out without sluiced ever accepting it,
# while 198.18.1.2 still logs in; `show ip bans` lists it; `unban ip` takes it out of the
# set and it logs in again. A reload that changes ban-nftables keeps the running table
# (the key needs a restart) and applies a shorter ban-time: two wrong passwords from
# fd00:18:0:1::2 then ban fd00:18:0:1::/64, in ban6 as fd00:18:0:1:: (the rules mask
# the source to /64), the kernel drops its connections, and when the ban ends the kernel
# has let the element go and the client logs in again. Once sluiced stops, its table is
# gone; the host's own namespace never had one. Started again and its table deleted
# under it, sluiced logs the nftables error of the next ban and refuses that address
# itself.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd jq nft
NET6=yes
it_init
require_ctl
TABLE=${RUN_ID}_bans
OTHER_TABLE=${RUN_ID}_other
BANS="listen-host = ::
max-ban-score = 20
ban-points-wrong-password = 10
ban-points-connection = 1
ban-time = 600
ban-nftables = $TABLE"
setup_server "$BANS"

snft() { ip netns exec "$NS_SRV" nft "$@"; }
# set_timeout SET ELEMENT: the element's timeout in seconds as the kernel has it, or
# nothing when the set does not hold it.
set_timeout()
{
	snft -j list set inet "$TABLE" "$1" | jq -r --arg e "$2" '.nftables[] | .set? // empty |
		.elem[]? | .elem? // empty | select(.val == $e) | .timeout'
}
# drops: the packets the table's rules dropped so far.
drops()
{
	snft -j list chain inet "$TABLE" input |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'
}
# reaches NS ADDRESS: true when a TCP connection from NS to ADDRESS:443 is accepted
# within 3 s (sluiced may close it at once); a dropped SYN times out.
reaches()
{
	ip netns exec "$1" timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$2" "$PORT" 2>/dev/null
}
refusals() { grep -c "connection from $1 refused: banned" "$SERVER_LOG"; }

# The table (made just before "sluiced ready", which may follow the listening port):
# both sets with timeouts, rules for 443/tcp and 443/udp and no other port.
wait_output 5 snft list table inet "$TABLE" || fail "no table inet $TABLE"
snft list table inet "$TABLE" >"$WORK/table.txt" || fail "no table inet $TABLE"
grep -q "flags timeout" "$WORK/table.txt" || fail "sets without timeouts: $(cat "$WORK/table.txt")"
for r in "tcp dport 443 .* ip saddr @ban4" "tcp dport 443 .* ip6 saddr & ffff:ffff:ffff:ffff:: == @ban6" \
	"udp dport 443 ip saddr @ban4" "udp dport 443 ip6 saddr & ffff:ffff:ffff:ffff:: == @ban6"; do
	grep -Eq "$r" "$WORK/table.txt" || fail "no rule '$r' in: $(cat "$WORK/table.txt")"
done
[ "$(grep -Eo 'dport [0-9]+' "$WORK/table.txt" | sort -u)" = "dport 443" ] ||
	fail "rules for other ports: $(cat "$WORK/table.txt")"
nft list tables | grep -q "$TABLE" && fail "table $TABLE in the host's own namespace"
log "table inet $TABLE made with its sets and rules for port 443"

reaches "$NS_C1" "$SRV_IP1" || fail "$CLI_IP1 cannot connect before any ban"
for i in 1 2; do
	start_client "bad$i" "$NS_C1" alice wrong-pw
	expect_refused "bad$i" "wrong password $i"
done
server_log_has "ban: client=$CLI_IP1 banned" 5 || fail "no ban of $CLI_IP1 logged"
t=$(set_timeout ban4 "$CLI_IP1")
[ -n "$t" ] || fail "$CLI_IP1 is not in set ban4: $(snft list set inet "$TABLE" ban4)"
[ "$t" -ge 590 ] && [ "$t" -le 600 ] || fail "ban4's element times out in $t s, not ban-time's 600"
ctl --json show ip bans >"$WORK/bans.json" || fail "show ip bans failed"
jq -e --arg ip "$CLI_IP1" 'length == 1 and .[0].IP == $ip' "$WORK/bans.json" >/dev/null ||
	fail "show ip bans: $(cat "$WORK/bans.json")"
log "$CLI_IP1 banned: in ban4 with a timeout of $t s, listed by show ip bans"

before=$(drops) seen=$(refusals "$CLI_IP1")
reaches "$NS_C1" "$SRV_IP1" && fail "a TCP connection from banned $CLI_IP1 was accepted"
[ "$(drops)" -gt "$before" ] || fail "the table's rules dropped nothing of $CLI_IP1"
sleep 0.5
[ "$(refusals "$CLI_IP1")" = "$seen" ] || fail "sluiced accepted a connection from $CLI_IP1"
log "a connection from $CLI_IP1 timed out in the kernel; sluiced never saw it"

start_client other "$NS_C2" alice alice-pw
wait_tunnel other 15 >/dev/null || fail "$CLI_IP2 was refused"
stop_client other
log "$CLI_IP2 still logs in"

ctl unban ip "$CLI_IP1" >/dev/null || fail "unban ip $CLI_IP1 failed"
[ -z "$(set_timeout ban4 "$CLI_IP1")" ] || fail "unban ip left $CLI_IP1 in ban4"
start_client again "$NS_C1" alice alice-pw
wait_tunnel again 15 >/dev/null || fail "$CLI_IP1 cannot log in after unban ip"
stop_client again
log "unban ip took $CLI_IP1 out of ban4; it logs in again"

# A reload: ban-nftables needs a restart, ban-time applies to the next ban.
reloaded=${BANS/ban-time = 600/ban-time = 8}
write_config "${reloaded/ban-nftables = $TABLE/ban-nftables = $OTHER_TABLE}"
kill -HUP "$SERVER_PID"
server_log_has "configuration reloaded" 5 || fail "the reload did not complete"
server_log_has "key 'ban-nftables' cannot change at runtime" 1 ||
	fail "no warning that ban-nftables needs a restart"
snft list table inet "$TABLE" >/dev/null || fail "the reload removed table $TABLE"
snft list table inet "$OTHER_TABLE" >/dev/null 2>&1 && fail "the reload made table $OTHER_TABLE"
log "reload: ban-nftables kept until a restart"

CLIENT_FAMILY=6
for i in 1 2; do
	start_client "bad6$i" "$NS_C1" alice wrong-pw
	expect_refused "bad6$i" "wrong password $i from $CLI6_IP1"
done
server_log_has "ban: client=fd00:18:0:1::/64 banned" 5 || fail "no ban of fd00:18:0:1::/64 logged"
t=$(set_timeout ban6 fd00:18:0:1::)
[ -n "$t" ] || fail "fd00:18:0:1:: is not in ban6: $(snft list set inet "$TABLE" ban6)"
[ "$t" -le 8 ] || fail "ban6's element times out in $t s, not the reloaded ban-time's 8"
before=$(drops)
reaches "$NS_C1" "$SRV6_IP1" && fail "a TCP connection from banned $CLI6_IP1 was accepted"
[ "$(drops)" -gt "$before" ] || fail "the table's rules dropped nothing of $CLI6_IP1"
reaches "$NS_C2" "$SRV6_IP2" || fail "$CLI6_IP2 (another /64) cannot connect"
log "fd00:18:0:1::/64 banned: fd00:18:0:1:: in ban6, $CLI6_IP1 dropped by the kernel"

for _ in $(seq 1 100); do
	[ -z "$(set_timeout ban6 fd00:18:0:1::)" ] && break
	sleep 0.1
done
[ -z "$(set_timeout ban6 fd00:18:0:1::)" ] || fail "ban6 still holds fd00:18:0:1:: after ban-time"
start_client back6 "$NS_C1" alice alice-pw
wait_tunnel back6 15 >/dev/null || fail "$CLI6_IP1 cannot log in after its ban ended"
stop_client back6
server_log_has "unban: client=fd00:18:0:1::/64: ban-time elapsed" 5 || fail "no expiry logged"
log "the ban ended: ban6 let fd00:18:0:1:: go and $CLI6_IP1 logs in again"

grep -q "nftables: .*cannot" "$SERVER_LOG" &&
	fail "nftables errors: $(grep "nftables: .*cannot" "$SERVER_LOG")"
stop_server
snft list table inet "$TABLE" >/dev/null 2>&1 && fail "table $TABLE outlived sluiced"
log "sluiced stopped; table $TABLE is gone"

# nftables failing under a running sluiced (someone deleted its table) is logged, and
# main refuses the banned address itself.
write_config "$BANS"
start_server
wait_output 5 snft list table inet "$TABLE" || fail "no table inet $TABLE after a restart"
snft delete table inet "$TABLE" || fail "cannot delete table $TABLE"
CLIENT_FAMILY=4
for i in 1 2; do
	start_client "lost$i" "$NS_C2" alice wrong-pw
	expect_refused "lost$i" "wrong password $i from $CLI_IP2 without the table"
done
server_log_has "nftables: cannot ban $CLI_IP2 in set ban4 of table inet $TABLE" 5 ||
	fail "no nftables error logged for the ban of $CLI_IP2"
log "server: $(grep -m1 "nftables: cannot ban $CLI_IP2" "$SERVER_LOG")"
reaches "$NS_C2" "$SRV_IP2" || fail "$CLI_IP2 was dropped with no table"
server_log_has "connection from $CLI_IP2 refused: banned" 5 || fail "main did not refuse $CLI_IP2"
kill -0 "$SERVER_PID" || fail "sluiced died of an nftables error"
log "without its table: the error is logged and main refuses $CLI_IP2 itself"
pass
