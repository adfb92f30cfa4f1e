#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced as a drop-in for ocserv: one ocserv.conf (keys both servers have), a password
# file made by ocpasswd and a per-user file run unchanged on Debian's ocserv and then on
# sluiced, with the same client (openconnect, the tests' vpnc-script). Compared, value by
# value: what the client is given (its script's environment: address, netmask, routes,
# DNS, domains, MTU, banner; the X-CSTP headers it acts on, and the DPD, keepalive and
# idle timeout it reports), and occtl --json against sluicectl --json for show users,
# show user and show status, every key occtl prints. Each difference is either listed
# below with its reason or fails the test.
. "$(dirname "$0")/lib.sh"
require_cmd jq
[ -x /usr/sbin/ocserv ] && [ -x /usr/bin/occtl ] && [ -x /usr/bin/ocpasswd ] ||
	fail "ocserv, occtl and ocpasswd missing (Debian: apt-get install ocserv)"
it_init
make_certs
SERVER=ocserv add_user alice alice-pw
mkdir "$WORK/users"
echo "route = 198.18.70.0/24" >"$WORK/users/alice" # replaces the global routes, in both
CONF="route = 198.18.60.0/24
route = 198.18.64.0/255.255.192.0
no-route = 198.18.61.0/24
dns = 198.18.0.53
split-dns = corp.example.com
split-dns = lab.example.com
default-domain = example.com
config-per-user = $WORK/users/"

# Differences on purpose (or known, with where they are reported), by "WHERE/NAME": env/
# the script's variable, hdr/ the X-CSTP header, and the occtl command/key.
POOL="predictable-ips picks the pool address from a hash of the user name, each server its own"
MTU="both take mtu as the link MTU (X-CSTP-Base-MTU is the same); without DTLS sluice still leaves room for an AES-GCM DTLS record below it (protocol.md 7.2), ocserv only for the IP and UDP headers"
ROUTE="ocserv writes routes as address/netmask, sluice keeps the prefix length as in the file; the client's routes are the same (env/CISCO_SPLIT_*)"
declare -A INTENDED=(
	[env/INTERNAL_IP4_ADDRESS]=$POOL
	[env/INTERNAL_IP4_MTU]=$MTU
	[hdr/X-CSTP-Address]=$POOL
	[hdr/X-CSTP-MTU]=$MTU
	[hdr/X-CSTP-Banner]="sluice percent-encodes the banner (protocol.md), which openconnect decodes: env/CISCO_BANNER is the same"
	[hdr/X-CSTP-Split-Include]=$ROUTE
	[hdr/X-CSTP-Split-Exclude]=$ROUTE
	[hdr/X-CSTP-Session-Timeout]="ocserv says 0, sluice none: openconnect reads both as no timeout"
	[hdr/X-CSTP-Session-Timeout-Remaining]="ocserv's 0 alongside Session-Timeout; sluice sends none, which openconnect reads the same"
	[hdr/X-CSTP-Rekey-Time]="rekey-method = ssl: sluice renews TLS 1.3 keys in place (README, rekey), so the client is told no reconnect time"
	[hdr/X-CSTP-Rekey-Method]="as X-CSTP-Rekey-Time"
	[users/IPv4]=$POOL
	[users/MTU]=$MTU
	[users/Routes]=$ROUTE
	[users/No-routes]=$ROUTE
	[users/TLS ciphersuite]="occtl cuts the name at 64 characters; sluicectl does not"
	[status/Median latency]="ocserv's latency statistics; sluice's are the metrics page's histograms"
	[status/raw_median_latency]="as Median latency"
	[status/STDEV latency]="as Median latency"
	[status/raw_stdev_latency]="as Median latency"
)
# Keys whose values are the session's or the moment's own (process IDs, session IDs,
# times, byte counts): only their form is compared, by this pattern ("WHERE/NAME" or
# NAME), after occtl's padding is trimmed (it right-aligns its durations).
DATE='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$'
AGE='^[0-9]+[smhd]( ?[0-9]+[smhd])*$|^[0-9]+[dhms]:.*$'
NUM='^[0-9]+$'
declare -A FORM=(
	[ID]=$NUM [Server PID]=$NUM [Sec-mod PID]=$NUM [Device]='^vpns[0-9]+$'
	[Remote IP]='^198\.18\.0\.2$' [Local Device IP]='^198\.18\.0\.1$' [P-t-P IPv4]='^198\.19\.0\.[0-9]+$'
	[Full session]='^[A-Za-z0-9+/=]+$' [Session]='^[A-Za-z0-9+/=]{6}$'
	[users/RX]=$NUM [users/TX]=$NUM [_RX]='^[0-9.]+ (bytes|KB|MB)$' [_TX]='^[0-9.]+ (bytes|KB|MB)$'
	[Average RX]='^[0-9.]+ (bytes|KB|MB)/sec$' [Average TX]='^[0-9.]+ (bytes|KB|MB)/sec$'
	[Connected at]=$DATE [_Connected at]=$AGE [Up since]=$DATE [_Up since]=$AGE
	[Last stats reset]=$DATE [_Last stats reset]=$AGE [raw_up_since]=$NUM
	[raw_last_stats_reset]=$NUM [uptime]=$NUM
)

run() # NAME CTL: one server, one client; its environment, log and the ctl records
{
	write_config "$CONF"
	start_server
	export VPNC_ENV_LOG=$WORK/$1.env
	start_client c "$NS_C1" alice alice-pw -v
	wait_tunnel c 20 >/dev/null || fail "no tunnel on $SERVER"
	unset VPNC_ENV_LOG
	sed -n '/^Got CONNECT response/,/^CSTP connected/p' "${CLIENT_LOG[c]}" >"$WORK/$1.hdr"
	for c in users "user alice" status; do
		# shellcheck disable=SC2086 # the command is several words
		ip netns exec "$NS_SRV" timeout 20 "$2" -s "$WORK/occtl.sock" --json show $c |
			jq -r 'if type == "array" then .[0] else . end | to_entries[] |
				"\(.key)\t\(.value | if type == "array" then join(",") else tostring end)"' |
			sed 's/\t *\(.*[^ ]\) *$/\t\1/' | sort >"$WORK/$1-${c%% *}.kv" ||
			fail "$2 show $c failed"
	done
	stop_client c
	stop_server
}
SERVER=ocserv run ocserv /usr/bin/occtl
SERVER_LOG=$WORK/sluiced.log
run sluice "$top_builddir/src/sluicectl"

bugs=0
differ() # WHERE NAME OCSERV SLUICE
{
	if [ -n "${INTENDED[$1/$2]:-}" ]; then
		log "$1/$2: '$3' / '$4': on purpose: ${INTENDED[$1/$2]}"
	else
		log "FAIL: $1/$2: ocserv '$3', sluiced '$4'"
		bugs=$((bugs + 1))
	fi
}
# compare WHERE OCSERV-FILE SLUICE-FILE: "NAME<TAB>VALUE" lines, every name of ocserv's.
compare()
{
	local k o s form
	while IFS=$'\t' read -r k o; do
		form=${FORM[$1/$k]:-${FORM[$k]:-}}
		s=$(awk -F'\t' -v k="$k" '$1 == k { sub(/^[^\t]*\t/, ""); print; exit }' "$3")
		grep -q "^$k"$'\t' "$3" || s='(missing)'
		if [ -n "$form" ] && [ -z "${INTENDED[$1/$k]:-}" ]; then
			[[ $o =~ $form ]] || fail "$1/$k: ocserv's '$o' is not of the form $form (fix the test)"
			[[ $s =~ $form ]] || differ "$1" "$k" "$o" "$s"
		elif [ "$o" != "$s" ]; then
			differ "$1" "$k" "$o" "$s"
		fi
	done <"$2"
}

# The script's environment (CISCO_* and INTERNAL_IP4_*).
for n in ocserv sluice; do sort -u "$WORK/$n.env" | sed 's/=/\t/' >"$WORK/$n.env.kv"; done
[ -s "$WORK/ocserv.env.kv" ] || fail "no environment from ocserv's client"
compare env "$WORK/ocserv.env.kv" "$WORK/sluice.env.kv"
# The X-CSTP headers openconnect 9.01 acts on (cstp.c); it ignores the others.
USED='^X-CSTP-(Keepalive|Session-Timeout|Session-Timeout-Remaining|Idle-Timeout|DPD|Rekey-Time|Rekey-Method|Base-MTU|MTU|Address|Netmask|DNS|NBNS|Default-Domain|Banner|Split-DNS|Split-Include|Split-Exclude):'
for n in ocserv sluice; do
	grep -E "$USED" "$WORK/$n.hdr" | sed 's/: /\t/' | sort |
		awk -F'\t' '{ v[$1] = v[$1] (v[$1] == "" ? "" : ",") $2 } END { for (k in v) print k "\t" v[k] }' |
		sort >"$WORK/$n.hdr.kv"
	grep '^CSTP connected' "$WORK/$n.hdr" | sed 's/^/reported\t/' >>"$WORK/$n.hdr.kv"
done
grep -q '^reported' "$WORK/ocserv.hdr.kv" || fail "ocserv's client reported no DPD and keepalive"
compare hdr "$WORK/ocserv.hdr.kv" "$WORK/sluice.hdr.kv"
compare users "$WORK/ocserv-users.kv" "$WORK/sluice-users.kv"
compare users "$WORK/ocserv-user.kv" "$WORK/sluice-user.kv"
compare status "$WORK/ocserv-status.kv" "$WORK/sluice-status.kv"
log "compared: $(cat "$WORK"/ocserv*.kv | wc -l) values of ocserv's"
[ $bugs = 0 ] || fail "$bugs difference(s) from ocserv"
pass "the client and occtl see from sluiced what they see from ocserv (differences listed)"
