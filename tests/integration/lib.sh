# Shared harness for the integration tests: sourced by tests/integration/test-*.sh,
# contrib/demo.sh and tests/bench/first-look.sh.
#
# It drives either sluiced (SERVER=sluiced, the default) or Debian's ocserv
# (SERVER=ocserv) with the same ocserv-syntax configuration, password file and
# certificates, and the real openconnect client, in network namespaces created per run.
# Network rule (doc/testing.md): only 198.18.0.0/15 addresses are ever configured, and
# for IPv6 (NET6=yes) only fd00::/8 ULA addresses.
#
# Exit codes of a test: 0 pass, 1 fail, 77 skip.

set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${SERVER:=sluiced}"
: "${TEST_NAME:=$(basename "$0" .sh)}"

IT_DIR=$top_srcdir/tests/integration
VPNC_SCRIPT=$IT_DIR/vpnc-script
PORT=443
# Names are unique per run so that tests can run in parallel.
RUN_ID=sl$$
NS_SRV=${RUN_ID}s
NS_C1=${RUN_ID}c1
NS_C2=${RUN_ID}c2
SRV_IP1=198.18.0.1
CLI_IP1=198.18.0.2
SRV_IP2=198.18.1.1
CLI_IP2=198.18.1.2
POOL_NET=198.19.0.0
POOL_PREFIX=24
# NET6=yes (set before it_init): the veth links carry these IPv6 addresses too.
: "${NET6:=no}"
SRV6_IP1=fd00:18:0:1::1
CLI6_IP1=fd00:18:0:1::2
SRV6_IP2=fd00:18:0:2::1
CLI6_IP2=fd00:18:0:2::2
# CLIENT_FAMILY=6: clients reach the server at its IPv6 address (NET6=yes).
CLIENT_FAMILY=4

WORK=
SERVER_PID=
SERVER_LOG=
SERVER_CONF=
PASSWD_FILE=
PIN=
CA_CERT=
TEST_FAILED=0
# PIDs this run started (besides the server); cleanup stops only these.
OWN_PIDS=()
# Commands cleanup runs (on_cleanup), for what a test set up outside its work directory.
CLEANUP_CMDS=()
NAMESPACES=()
declare -A CLIENT_PID=() CLIENT_LOG=() CLIENT_NS=() CLIENT_IF=()
# Numbers the tun devices of successive clients.
CLIENT_SEQ=0
# Clients run with --no-dtls (TLS only) unless a test sets CLIENT_DTLS=yes.
CLIENT_DTLS=no

log() { printf '%s [%s] %s\n' "$(date +%T)" "$TEST_NAME" "$*"; }

# A --enable-sanitizers build: a sanitizer that finds an error prints a report on the
# stderr of that process and ends it (src/common/sanitize.h). For sluiced, its sec
# module and its workers that is the server log (main passes its stderr to the workers),
# which a test's own checks never read: sanitizer_check does, when the test ends.

# The first line of a report: ASan, LSan, a sanitizer's own CHECK failure, UBSan.
SANITIZER_RE='^==[0-9]+==(ERROR: )?[A-Za-z]+Sanitizer|: runtime error: '

# sanitizer_build: true if the server under test is a --enable-sanitizers build.
sanitizer_build() { [ "$SERVER" = sluiced ] && grep -qa __asan_init "$(server_bin)"; }

# sanitizer_symbolize: copies a report from stdin to stdout, with the frames the
# sandboxed worker could not name ("#3 0x55d1 (/path/sluice-worker+0x41f29)", it may not
# open its binary) resolved by addr2line.
sanitizer_symbolize()
{
	local line bin off
	while IFS= read -r line; do
		if [[ $line =~ ^(\ *#([0-9]+)\ 0x[0-9a-f]+)\ +\((/[^+]+)\+(0x[0-9a-f]+)\)$ ]] &&
			command -v addr2line >/dev/null; then
			bin=${BASH_REMATCH[3]} off=${BASH_REMATCH[4]}
			# Frames below the first are return addresses: look up the call.
			[ "${BASH_REMATCH[2]}" = 0 ] || off=$(printf '0x%x' $((off - 1)))
			printf '%s in %s (%s+%s)\n' "${BASH_REMATCH[1]}" \
				"$(addr2line -f -i -p -C -e "$bin" "$off" 2>/dev/null | head -n 1)" \
				"$bin" "${BASH_REMATCH[4]}"
		else
			printf '%s\n' "$line"
		fi
	done
}

# sanitizer_check: 0 if no sluiced of this test reported anything; otherwise prints the
# reports (the lines from the first one on) and returns 1. Every test's server logs are
# *.log files in WORK.
sanitizer_check()
{
	local f found=0
	for f in ${WORK:+"$WORK"/*.log}; do
		[ -f "$f" ] && grep -Eq -- "$SANITIZER_RE" "$f" || continue
		found=1
		echo "----- sanitizer report in $f -----"
		sed -En "/$SANITIZER_RE/,\$p" "$f" | head -n 200 | sanitizer_symbolize
	done
	[ $found = 0 ]
}

fail()
{
	log "FAIL: $*"
	TEST_FAILED=1
	exit 1
}

skip()
{
	log "SKIP: $*"
	exit 77
}

# Refuses every address outside the benchmarking range 198.18.0.0/15 (testing.md).
check_addr()
{
	local a=${1%/*}
	case $a in
	198.18.* | 198.19.*) ;;
	*) fail "refusing address '$1' outside 198.18.0.0/15" ;;
	esac
	[[ $a =~ ^198\.1[89]\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || fail "malformed address '$1'"
}

# Refuses every IPv6 address outside the ULA range fd00::/8 (testing.md).
check_addr6()
{
	local a=${1%/*}
	[[ ${a,,} =~ ^fd[0-9a-f]{2}(:[0-9a-f]{0,4}){1,7}$ ]] ||
		fail "refusing IPv6 address '$1' outside fd00::/8"
}

server_bin()
{
	case $SERVER in
	sluiced) echo "$top_builddir/src/sluiced" ;;
	ocserv) echo /usr/sbin/ocserv ;;
	*) echo "" ;;
	esac
}

passwd_bin()
{
	if [ "$SERVER" = sluiced ]; then
		echo "$top_builddir/src/sluice-passwd"
	else
		echo /usr/bin/ocpasswd
	fi
}

# Checks the preconditions every test has; skips with the reason otherwise.
require_env()
{
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, TUN)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	command -v openconnect >/dev/null || skip "openconnect is not installed"
	command -v ip >/dev/null || skip "ip (iproute2) is not installed"
	command -v certtool >/dev/null || skip "certtool (gnutls-bin) is not installed"
	[ -x "$VPNC_SCRIPT" ] || fail "$VPNC_SCRIPT is not executable"
	local bin
	bin=$(server_bin)
	[ -n "$bin" ] || fail "SERVER must be sluiced or ocserv, not '$SERVER'"
	[ -x "$bin" ] || skip "$bin does not exist (build it first)"
	[ -x "$(passwd_bin)" ] || skip "$(passwd_bin) does not exist"
}

require_sluiced()
{
	[ "$SERVER" = sluiced ] || skip "checks sluiced-specific behaviour (SERVER=$SERVER)"
}

# require_ctl: sluicectl (CTL) for the test server's control socket (SOCK, set by
# write_config), and ctl ARGS... to run it in the server namespace, bounded.
require_ctl()
{
	CTL=$top_builddir/src/sluicectl
	[ -x "$CTL" ] || fail "no $CTL; build first"
	SOCK=$WORK/occtl.sock
}
ctl() { ip netns exec "$NS_SRV" timeout 30 "$CTL" -s "$SOCK" "$@"; }

require_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c is not installed"
	done
}

# Stops one PID we started: TERM, a bounded wait, then KILL.
stop_pid()
{
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	return 0
}

# Descendants of a PID we started (the server's workers and sec-mod) are ours too.
descendants()
{
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		descendants "$c"
		echo "$c"
	done
}

stop_server()
{
	[ -n "$SERVER_PID" ] || return 0
	local kids
	kids=$(descendants "$SERVER_PID")
	stop_pid "$SERVER_PID"
	local k
	for k in $kids; do
		kill -KILL "$k" 2>/dev/null
	done
	SERVER_PID=
}

cleanup()
{
	local rc=$? p ns
	[ "$TEST_FAILED" = 1 ] && rc=1
	trap - EXIT INT TERM
	for p in "${CLIENT_PID[@]}" "${OWN_PIDS[@]}"; do
		stop_pid "$p"
	done
	stop_server
	if ! sanitizer_check; then
		log "FAIL: a sanitizer reported an error (above)"
		rc=1
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		if [ -n "$SERVER_LOG" ] && [ -s "$SERVER_LOG" ]; then
			echo "----- server log ($SERVER) -----"
			tail -n 200 "$SERVER_LOG"
		fi
		for p in "${!CLIENT_LOG[@]}"; do
			echo "----- client $p log -----"
			tail -n 40 "${CLIENT_LOG[$p]}"
		done
	fi
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for p in "${CLEANUP_CMDS[@]}"; do
		eval "$p"
	done
	[ -n "$WORK" ] && rm -rf "$WORK"
	exit "$rc"
}

# on_cleanup COMMAND: run COMMAND (a shell string) when the test ends, however it ends:
# for the users, groups and files a test makes outside its work directory.
on_cleanup() { CLEANUP_CMDS+=("$1"); }

# Starts a test: checks the environment, installs the cleanup trap, creates the work
# directory (traversable by run-as-user nobody) and the namespaces.
it_init()
{
	require_env
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	WORK=$(mktemp -d "/tmp/sluice-it.$RUN_ID.XXXXXX")
	chmod 755 "$WORK"
	log "server: $SERVER ($(server_bin)), work dir $WORK"
	make_netns
}

add_ns()
{
	ip netns add "$1" || fail "cannot create namespace $1"
	NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# Server namespace with one veth pair to each of two client namespaces. The veth ends
# are created directly inside the namespaces so no name appears in the host namespace.
make_netns()
{
	local a
	for a in $SRV_IP1 $CLI_IP1 $SRV_IP2 $CLI_IP2 $POOL_NET; do
		check_addr "$a"
	done
	add_ns "$NS_SRV"
	add_ns "$NS_C1"
	add_ns "$NS_C2"
	ip -n "$NS_SRV" link add s1 type veth peer name eth0 netns "$NS_C1" ||
		fail "cannot create veth pair 1"
	ip -n "$NS_SRV" link add s2 type veth peer name eth0 netns "$NS_C2" ||
		fail "cannot create veth pair 2"
	ip -n "$NS_SRV" addr add $SRV_IP1/24 dev s1
	ip -n "$NS_SRV" addr add $SRV_IP2/24 dev s2
	ip -n "$NS_C1" addr add $CLI_IP1/24 dev eth0
	ip -n "$NS_C2" addr add $CLI_IP2/24 dev eth0
	# Source-address checks are the VPN server's job; strict reverse-path filtering
	# in the server namespace would hide a server that forwards spoofed packets.
	ip netns exec "$NS_SRV" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	ip -n "$NS_SRV" link set s1 up
	ip -n "$NS_SRV" link set s2 up
	ip -n "$NS_C1" link set eth0 up
	ip -n "$NS_C2" link set eth0 up
	[ "$NET6" = yes ] && add_veth_ipv6
	return 0
}

# add_veth_ipv6: IPv6 on in the three namespaces, and SRV6_IP1/CLI6_IP1 on link 1,
# SRV6_IP2/CLI6_IP2 on link 2 (/64 each), usable at once (no duplicate address
# detection); fails unless none is left tentative.
add_veth_ipv6()
{
	local a ns
	for a in $SRV6_IP1 $CLI6_IP1 $SRV6_IP2 $CLI6_IP2; do
		check_addr6 "$a"
	done
	for ns in "$NS_SRV" "$NS_C1" "$NS_C2"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
			net.ipv6.conf.default.disable_ipv6=0 || fail "cannot enable IPv6 in $ns"
	done
	ip -n "$NS_SRV" addr add $SRV6_IP1/64 dev s1 nodad &&
		ip -n "$NS_SRV" addr add $SRV6_IP2/64 dev s2 nodad &&
		ip -n "$NS_C1" addr add $CLI6_IP1/64 dev eth0 nodad &&
		ip -n "$NS_C2" addr add $CLI6_IP2/64 dev eth0 nodad || fail "cannot add IPv6 addresses"
	for ns in "$NS_SRV" "$NS_C1" "$NS_C2"; do
		for _ in $(seq 1 50); do
			[ -z "$(ip -n "$ns" -6 addr show tentative)" ] && continue 2
			sleep 0.1
		done
		fail "IPv6 addresses in $ns still tentative after 5 s"
	done
}

# Server address as seen from client namespace 1 or 2 (IPv6 with CLIENT_FAMILY=6).
server_ip_for()
{
	local v4=$SRV_IP1 v6=$SRV6_IP1
	[ "$1" = "$NS_C2" ] && v4=$SRV_IP2 v6=$SRV6_IP2
	if [ "$CLIENT_FAMILY" = 6 ]; then echo "$v6"; else echo "$v4"; fi
}

# server_url_for NS: the URL a client in NS connects to, https://[IPv6]:port/ for IPv6.
server_url_for()
{
	local ip
	ip=$(server_ip_for "$1")
	[[ $ip == *:* ]] && ip="[$ip]"
	echo "https://$ip:$PORT/"
}

# ECDSA P-256 CA and server certificate; sets CA_CERT, SERVER_CERT, SERVER_KEY, PIN.
make_certs()
{
	make_certs_type "--key-type=ecdsa --curve=secp256r1"
}

make_certs_rsa()
{
	make_certs_type "--key-type=rsa --bits=2048"
}

make_certs_type()
{
	local keyopt=$1 d=$WORK/pki
	mkdir -p "$d"
	printf 'cn = "sluice test CA"\nca\ncert_signing_key\nexpiration_days = 2\n' >"$d/ca.tmpl"
	{
		echo 'cn = "sluice test server"'
		printf 'ip_address = "%s"\n' $SRV_IP1 $SRV_IP2 $SRV6_IP1 $SRV6_IP2
		printf '%s\n' tls_www_server signing_key encryption_key 'expiration_days = 2'
	} >"$d/server.tmpl"
	# shellcheck disable=SC2086 # keyopt holds several options
	certtool --generate-privkey $keyopt --outfile "$d/ca.key" >/dev/null 2>&1 &&
		certtool --generate-self-signed --load-privkey "$d/ca.key" \
			--template "$d/ca.tmpl" --outfile "$d/ca.pem" >/dev/null 2>&1 &&
		certtool --generate-privkey $keyopt --outfile "$d/server.key" >/dev/null 2>&1 &&
		certtool --generate-certificate --load-privkey "$d/server.key" \
			--load-ca-certificate "$d/ca.pem" --load-ca-privkey "$d/ca.key" \
			--template "$d/server.tmpl" --outfile "$d/server.pem" >/dev/null 2>&1 ||
		fail "certtool failed"
	CA_CERT=$d/ca.pem
	SERVER_CERT=$d/server.pem
	SERVER_KEY=$d/server.key
	PIN=$(compute_pin "$SERVER_CERT")
	[ -n "$PIN" ] || fail "cannot compute the server key pin"
}

# "pin-sha256:" + base64(SHA-256(SubjectPublicKeyInfo DER)), the form openconnect's
# --servercert takes. Computed with certtool; cross-checked with openssl when present.
compute_pin()
{
	local pin ssl
	pin=$(certtool -i --infile "$1" 2>/dev/null | grep -m1 -o 'pin-sha256:[A-Za-z0-9+/=]*')
	if command -v openssl >/dev/null; then
		ssl=pin-sha256:$(openssl x509 -in "$1" -noout -pubkey |
			openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)
		[ "$pin" = "$ssl" ] || fail "certtool pin $pin differs from openssl pin $ssl"
	fi
	echo "$pin"
}

# add_user USER PASSWORD [GROUP]
add_user()
{
	local g=()
	PASSWD_FILE=${PASSWD_FILE:-$WORK/passwd}
	[ $# -ge 3 ] && g=(-g "$3")
	printf '%s\n' "$2" | "$(passwd_bin)" -c "$PASSWD_FILE" "${g[@]}" "$1" >/dev/null ||
		fail "cannot add user $1"
}

# lock_user USER / unlock_user USER
lock_user() { "$(passwd_bin)" -c "$PASSWD_FILE" -l "$1" </dev/null || fail "cannot lock $1"; }
unlock_user() { "$(passwd_bin)" -c "$PASSWD_FILE" -u "$1" </dev/null || fail "cannot unlock $1"; }

# write_config [OVERRIDES]: the configuration both servers accept, plus the keys
# ocserv needs to run in the foreground from a private directory. OVERRIDES are
# "key = value" lines (keys both servers accept) that replace the default of that key.
write_config()
{
	local overrides=${1:-}
	SERVER_CONF=$WORK/server.conf
	check_addr $POOL_NET
	{
		cat <<-EOF
			auth = "plain[passwd=$PASSWD_FILE]"
			tcp-port = $PORT
			udp-port = $PORT
			listen-host = 0.0.0.0
			run-as-user = nobody
			run-as-group = nogroup
			socket-file = $WORK/server.sock
			occtl-socket-file = $WORK/occtl.sock
			pid-file = $WORK/server.pid
			server-cert = $SERVER_CERT
			server-key = $SERVER_KEY
			max-clients = 16
			max-same-clients = 4
			keepalive = 30
			dpd = 90
			auth-timeout = 30
			idle-timeout = 1200
			cookie-timeout = 300
			device = vpns
			predictable-ips = true
			ipv4-network = $POOL_NET/$POOL_PREFIX
			route = $POOL_NET/$POOL_PREFIX
			mtu = 1400
			log-level = 2
			banner = "sluice integration test"
			tls-priorities = "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"
			max-ban-score = 0
		EOF
		if [ "$SERVER" = ocserv ]; then
			# ocserv: private control socket; no rate limit so that repeated test
			# logins are not refused (max-ban-score = 0 above, for both servers).
			cat <<-EOF
				use-occtl = true
				rate-limit-ms = 0
			EOF
		fi
	} | awk -v ov="$overrides" '
		function key(l) { sub(/[ \t]*=.*/, "", l); sub(/^[ \t]*/, "", l); return l }
		BEGIN { n = split(ov, o, "\n"); for (i = 1; i <= n; i++) if (o[i] != "") skip[key(o[i])] = 1 }
		!(key($0) in skip) { print }
		END { for (i = 1; i <= n; i++) if (o[i] != "") print o[i] }' >"$SERVER_CONF"
}

# Starts the server in the server namespace and waits (bounded) until the TCP port
# accepts connections. SERVER_NOFILE=SOFT:HARD (or N for both) starts the server with
# those file descriptor limits, as a supervisor could set them.
start_server()
{
	local bin i
	bin=$(server_bin)
	SERVER_LOG=${SERVER_LOG:-$WORK/server.log}
	(
		if [ -n "${SERVER_NOFILE:-}" ]; then
			ulimit -n "${SERVER_NOFILE#*:}" && ulimit -Sn "${SERVER_NOFILE%:*}" || exit 1
		fi
		exec ip netns exec "$NS_SRV" "$bin" -f -c "$SERVER_CONF"
	) >>"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	for i in $(seq 1 100); do
		kill -0 "$SERVER_PID" 2>/dev/null || fail "$SERVER exited during start-up"
		if ip netns exec "$NS_SRV" ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q LISTEN; then
			log "$SERVER started (pid $SERVER_PID)"
			return 0
		fi
		sleep 0.1
	done
	fail "$SERVER does not listen on port $PORT after 10 s"
}

# setup_server [EXTRA-CONFIG]: certificates, user alice (password alice-pw), config,
# server started.
setup_server()
{
	make_certs
	add_user alice alice-pw
	write_config "${1:-}"
	start_server
}

# start_client NAME NS USER PASSWORD [openconnect options...]: starts openconnect in
# the background (its PID kept) with the test vpnc-script and a pinned certificate; with
# PIN empty, nothing is pinned and the options say how to verify the server (--cafile).
# CLIENT_URL, when set, is the URL instead of the server's address (a name that the
# options map to it with --resolve).
start_client()
{
	local name=$1 ns=$2 user=$3 pass=$4 ifn dtls=()
	shift 4
	[ "$CLIENT_DTLS" = yes ] || dtls=(--no-dtls)
	ifn=oc$CLIENT_SEQ
	CLIENT_SEQ=$((CLIENT_SEQ + 1))
	CLIENT_LOG[$name]=$WORK/client-$name.log
	CLIENT_NS[$name]=$ns
	CLIENT_IF[$name]=$ifn
	ip netns exec "$ns" openconnect --script "$VPNC_SCRIPT" --non-inter \
		--passwd-on-stdin --user "$user" ${PIN:+--servercert "$PIN"} \
		--interface "$ifn" "${dtls[@]}" "$@" "${CLIENT_URL:-$(server_url_for "$ns")}" \
		<<<"$pass" >"${CLIENT_LOG[$name]}" 2>&1 &
	CLIENT_PID[$name]=$!
}

# start_cookie_client NAME NS COOKIE [openconnect options...]: connects with a cookie
# from get_cookie.
start_cookie_client()
{
	local name=$1 ns=$2 cookie=$3 ifn dtls=()
	shift 3
	[ "$CLIENT_DTLS" = yes ] || dtls=(--no-dtls)
	ifn=oc$CLIENT_SEQ
	CLIENT_SEQ=$((CLIENT_SEQ + 1))
	CLIENT_LOG[$name]=$WORK/client-$name.log
	CLIENT_NS[$name]=$ns
	CLIENT_IF[$name]=$ifn
	ip netns exec "$ns" openconnect --script "$VPNC_SCRIPT" --non-inter \
		--servercert "$PIN" "${dtls[@]}" --interface "$ifn" -C "$cookie" "$@" \
		"$(server_url_for "$ns")" </dev/null >>"${CLIENT_LOG[$name]}" 2>&1 &
	CLIENT_PID[$name]=$!
}

# client_log_count NAME REGEX: how many lines of the client's output match REGEX.
client_log_count()
{
	local n
	n=$(grep -Ec -- "$2" "${CLIENT_LOG[$1]}" 2>/dev/null)
	echo "${n:-0}"
}

# dtls_count NAME: how many DTLS sessions the client has established so far.
dtls_count() { client_log_count "$1" 'Established DTLS connection'; }

# wait_dtls NAME [SECONDS] [COUNT]: waits (bounded) until the client has established
# its COUNT-th (default: first) DTLS session and prints that session's ciphersuite as
# openconnect logs it, e.g. (DTLS1.2)-(PSK)-(AES-256-GCM).
wait_dtls()
{
	local name=$1 limit=${2:-15} want=${3:-1} i
	for i in $(seq 1 $((limit * 10))); do
		if [ "$(dtls_count "$name")" -ge "$want" ]; then
			grep 'Established DTLS connection' "${CLIENT_LOG[$name]}" | sed -n "${want}p" |
				sed -n 's/.*Ciphersuite \(.*\)\.$/\1/p'
			return 0
		fi
		kill -0 "${CLIENT_PID[$name]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# client_addr NAME: the IPv4 address on the client's tun device (empty if none).
client_addr()
{
	ip -n "${CLIENT_NS[$1]}" -4 -o addr show dev "${CLIENT_IF[$1]}" 2>/dev/null |
		awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

# wait_tunnel NAME [SECONDS]: waits until the vpnc-script has finished with the tun
# device (address, link up, and the pool route it adds last); prints the address.
wait_tunnel()
{
	local name=$1 limit=${2:-15} i a ns=${CLIENT_NS[$1]} ifn=${CLIENT_IF[$1]}
	for i in $(seq 1 $((limit * 10))); do
		a=$(client_addr "$name")
		if [ -n "$a" ] && ip -n "$ns" link show dev "$ifn" 2>/dev/null | grep -q ',UP' &&
			[ -n "$(ip -n "$ns" -4 route show dev "$ifn" 2>/dev/null)" ]; then
			check_addr "$a"
			echo "$a"
			return 0
		fi
		kill -0 "${CLIENT_PID[$name]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_client_exit NAME SECONDS: waits for the client to exit; returns its status, or
# 124 if it still runs.
wait_client_exit()
{
	local name=$1 limit=$2 i
	for i in $(seq 1 $((limit * 10))); do
		if ! kill -0 "${CLIENT_PID[$name]}" 2>/dev/null; then
			{ wait "${CLIENT_PID[$name]}"; } 2>/dev/null
			return $?
		fi
		sleep 0.1
	done
	return 124
}

# expect_refused NAME WHAT: the client must exit non-zero within 15 s without a tunnel.
expect_refused()
{
	local rc
	wait_client_exit "$1" 15
	rc=$?
	[ $rc = 124 ] && fail "$2: the client still runs after 15 s"
	[ $rc = 0 ] && fail "$2: the client exited 0"
	[ -z "$(client_addr "$1")" ] || fail "$2: the client got a tunnel"
	log "$2: refused (client exit $rc)"
}

# stop_client NAME [SIGNAL]: ends a client with SIGNAL (default INT, which makes
# openconnect send a CSTP DISCONNECT) and waits for it (bounded).
stop_client()
{
	local name=$1 sig=${2:-INT} pid=${CLIENT_PID[$1]}
	kill -"$sig" "$pid" 2>/dev/null
	wait_client_exit "$name" 10
	[ $? = 124 ] && stop_pid "$pid"
	unset "CLIENT_PID[$name]"
	return 0
}

# server_tun_ip CLIENT-VPN-IP: the server-side address of the tunnel that leads to a
# client, read from the server namespace (both servers use point-to-point tun devices).
# Waits up to 3 s because the server may configure its side just after the client's.
server_tun_ip()
{
	local i a
	for i in $(seq 1 30); do
		a=$(ip -n "$NS_SRV" -4 -o addr show 2>/dev/null |
			awk -v peer="$1" '$0 ~ (" peer " peer "/") { sub(/\/.*/, "", $4); print $4; exit }')
		if [ -n "$a" ]; then
			echo "$a"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# server_dtls_logged: sluiced only, an extra check beside the client's own output:
# waits (bounded) for the worker's "DTLS established: ..." line and logs it.
server_dtls_logged()
{
	[ "$SERVER" = sluiced ] || return 0
	server_log_has 'DTLS established: ' 5 || fail "sluiced logged no 'DTLS established'"
	log "server: $(grep -E 'DTLS established: ' "$SERVER_LOG" | tail -n 1)"
}

# udp_counters [NS]: "IN OUT", the UDP datagrams delivered to and sent by sockets of
# namespace NS (default: the server's) so far (/proc/net/snmp of that namespace).
udp_counters()
{
	ip netns exec "${1:-$NS_SRV}" cat /proc/net/snmp | awk '$1 == "Udp:" {
		if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1; next }
		print $col["InDatagrams"], $col["OutDatagrams"] }'
}

# udp_delta BEFORE AFTER: "IN OUT" growth between two "IN OUT" readings.
udp_delta()
{
	awk -v b="$1" -v a="$2" 'BEGIN {
		split(b, x, " "); split(a, y, " "); print y[1] - x[1], y[2] - x[2] }'
}

# expect_udp BEFORE AFTER MIN WHAT: logs the "IN OUT" growth between two readings of
# udp_counters or udp_peer_packets and fails unless both directions grew by MIN.
expect_udp()
{
	local din dout
	read -r din dout <<<"$(udp_delta "$1" "$2")"
	log "$4: UDP datagrams in $din, out $dout"
	[ "$din" -ge "$3" ] && [ "$dout" -ge "$3" ] && return 0
	fail "$4: not over UDP (fewer than $3 datagrams each way)"
}

# udp_peer_watch ADDR: counts in the server namespace, with nftables named counters,
# the datagrams from ADDR (IPv4 or IPv6) to the server's UDP port and from that port to
# ADDR; unlike udp_counters this tells one peer from another (a flood, a replay).
udp_peer_watch()
{
	local a=$1 id ip=ip
	if [[ $a == *:* ]]; then
		check_addr6 "$a"
		ip=ip6
	else
		check_addr "$a"
	fi
	id=${a//[.:]/_}
	ip netns exec "$NS_SRV" nft -f - <<-EOF || fail "nft cannot count the UDP of $a"
		table inet sl_udp {
			counter in_$id { }
			counter out_$id { }
			chain c_in {
				type filter hook input priority 0; policy accept;
				$ip saddr $a udp dport $PORT counter name in_$id
			}
			chain c_out {
				type filter hook output priority 0; policy accept;
				$ip daddr $a udp sport $PORT counter name out_$id
			}
		}
	EOF
}

# udp_peer_packets ADDR: "IN OUT" datagrams counted since udp_peer_watch ADDR.
udp_peer_packets()
{
	local id=${1//[.:]/_} d n=()
	for d in in out; do
		n+=("$(ip netns exec "$NS_SRV" nft list counter inet sl_udp "${d}_$id" |
			awk '$1 == "packets" { print $2 }')")
	done
	echo "${n[0]:-0} ${n[1]:-0}"
}

# udp_block NS [CLIENT-ADDR]: silently loses the UDP between client namespace NS (only
# its address CLIENT-ADDR when given) and the server's port, as a broken path would:
# each side drops what it receives, so no sender sees an error (a drop on output would
# fail the send with EPERM, which openconnect notices at once).
udp_block()
{
	local a=${2:-} dst='' id
	if [ -n "$a" ]; then
		dst="ip daddr $a"
	elif [ "$1" = "$NS_C2" ]; then
		a=$CLI_IP2
	else
		a=$CLI_IP1
	fi
	check_addr "$a"
	id=${a//./_}
	ip netns exec "$1" nft -f - <<-EOF || fail "nft cannot block UDP in $1"
		table inet sl_block {
			chain c_in {
				type filter hook input priority 0; policy accept;
				$dst udp sport $PORT drop
			}
		}
	EOF
	ip netns exec "$NS_SRV" nft -f - <<-EOF || fail "nft cannot block UDP from $a"
		table inet sl_block_$id {
			chain c_in {
				type filter hook input priority 0; policy accept;
				ip saddr $a udp dport $PORT drop
			}
		}
	EOF
}

# get_cookie NS USER PASSWORD: runs openconnect --authenticate and prints the cookie.
# CLIENT_URL, when set, is the URL (as for start_client).
get_cookie()
{
	local out
	out=$(ip netns exec "$1" timeout 20 openconnect --authenticate --non-inter \
		--passwd-on-stdin --user "$2" --servercert "$PIN" \
		"${CLIENT_URL:-$(server_url_for "$1")}" <<<"$3" 2>>"$WORK/authenticate.log") ||
		return 1
	sed -n "s/^COOKIE='\(.*\)'\$/\1/p" <<<"$out"
}

# ping_through NS DEST COUNT [ping options]: pings with a bounded deadline; prints the
# ping summary; returns ping's status.
ping_through()
{
	local ns=$1 dst=$2 count=$3
	shift 3
	check_addr "$dst"
	ip netns exec "$ns" ping -n -q -c "$count" -i 0.2 -W 2 -w $((count + 5)) "$@" "$dst" 2>&1
}

# iperf_run NS SERVER-IP [iperf3 client options]: one bounded iperf3 run (3 s) against
# an iperf3 server started in the server namespace; prints the Mbit/s received.
iperf_run()
{
	local ns=$1 dst=$2 spid out
	shift 2
	if [[ $dst == *:* ]]; then check_addr6 "$dst"; else check_addr "$dst"; fi
	ip netns exec "$NS_SRV" timeout 30 iperf3 -s -1 -B "$dst" -p 5201 >/dev/null 2>&1 &
	spid=$!
	OWN_PIDS+=("$spid")
	for _ in $(seq 1 50); do
		ip netns exec "$NS_SRV" ss -Hltn "sport = :5201" | grep -q LISTEN && break
		sleep 0.1
	done
	out=$(ip netns exec "$ns" timeout 20 iperf3 -c "$dst" -p 5201 -t "${IPERF_SECONDS:-3}" \
		--json "$@") || {
		stop_pid "$spid"
		return 1
	}
	wait "$spid" 2>/dev/null
	jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' <<<"$out"
}

# wait_output SECONDS COMMAND [ARGS...]: waits (bounded) until COMMAND prints something.
wait_output()
{
	local limit=$1 i
	shift
	for i in $(seq 1 $((limit * 10))); do
		[ -n "$("$@" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# server_log_has PATTERN [SECONDS]: waits (bounded) for an extended regex in the log.
server_log_has()
{
	local pat=$1 limit=${2:-5} i
	for i in $(seq 1 $((limit * 10))); do
		grep -Eq -- "$pat" "$SERVER_LOG" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# session_worker USER: waits (bounded) for sluiced's "session start" line of USER and
# prints the worker PID it names (the newest one).
session_worker()
{
	server_log_has "session start: .*user=$1 .*worker=[0-9]+" 5 || return 1
	grep -E "session start: .*user=$1 " "$SERVER_LOG" | tail -n 1 |
		sed -n 's/.* worker=\([0-9]*\).*/\1/p'
}

# template_pid: the worker template(s) of the server this test started: its children
# whose command line is "sluice-worker --template". Two while one is being retired.
template_pid()
{
	local p
	for p in $(pgrep -P "$SERVER_PID"); do
		[ "$(tr -d '\0' </proc/$p/cmdline 2>/dev/null)" = sluice-worker--template ] && echo "$p"
	done
}

# worker_pids: the server's workers, its children whose command line is plain
# "sluice-worker" (not sec, not the template).
worker_pids()
{
	local p
	for p in $(pgrep -P "$SERVER_PID"); do
		[ "$(tr -d '\0' </proc/$p/cmdline 2>/dev/null)" = sluice-worker ] && echo "$p"
	done
}

# map_base PID LIB: the address at which PID's memory map starts LIB (e.g. libgnutls),
# that is where the address-space layout put it.
map_base()
{
	awk -v lib="$2" '$6 ~ lib { sub(/-.*/, "", $1); print $1; exit }' "/proc/$1/maps"
}

# hold_tcp NAME NS SECONDS: a TCP connection from NS to the server that sends nothing,
# not even a TLS ClientHello, held open for SECONDS (its PID in OWN_PIDS, HOLD_PID[NAME]).
declare -A HOLD_PID=()
hold_tcp()
{
	local dst
	dst=$(server_ip_for "$2")
	check_addr "$dst"
	ip netns exec "$2" bash -c 'exec 3<>"/dev/tcp/$1/$2" && exec sleep "$3"' _ "$dst" \
		"$PORT" "$3" &
	HOLD_PID[$1]=$!
	OWN_PIDS+=("$!")
}

# expect_unprivileged WHAT PID: PID runs as nobody/nogroup (real, effective, saved and
# filesystem IDs; no other group), holds no capability, has no_new_privs and is not
# dumpable (its /proc/PID/mem then belongs to root, whatever its uid).
expect_unprivileged()
{
	local what=$1 pid=$2 status uid gid
	uid=$(id -u nobody)
	gid=$(getent group nogroup | cut -d: -f3)
	status=$(cat "/proc/$pid/status") || fail "$what $pid: no /proc/$pid/status"
	log "$what $pid: $(grep -E '^(Uid|Gid|Groups|CapEff|Seccomp|NoNewPrivs):' <<<"$status" |
		tr '\n\t' '  ')"
	grep -qx "Uid:	$uid	$uid	$uid	$uid" <<<"$status" || fail "$what Uid is not $uid x4"
	grep -qx "Gid:	$gid	$gid	$gid	$gid" <<<"$status" || fail "$what Gid is not $gid x4"
	grep -qx "Groups:	$gid *" <<<"$status" || fail "$what has groups other than $gid"
	grep -qx "CapPrm:	0000000000000000" <<<"$status" || fail "$what has capabilities"
	grep -qx "CapEff:	0000000000000000" <<<"$status" || fail "$what has capabilities"
	grep -qx "NoNewPrivs:	1" <<<"$status" || fail "$what lacks no_new_privs"
	[ "$(stat -c %u "/proc/$pid/mem")" = 0 ] || fail "$what is dumpable"
}

pass()
{
	log "PASS${1:+: $1}"
	exit 0
}

# --- IPv6 inside the tunnel (fd00::/8 only, testing.md) ---------------------------------

# client_addr6 NAME: the global IPv6 address on the client's tun device (empty if none).
client_addr6()
{
	ip -n "${CLIENT_NS[$1]}" -6 -o addr show dev "${CLIENT_IF[$1]}" scope global 2>/dev/null |
		awk '{ sub(/\/.*/, "", $4); print $4; exit }'
}

# wait_tunnel6 NAME [SECONDS]: waits until the client's tun device has its IPv6 address;
# prints it.
wait_tunnel6()
{
	local name=$1 limit=${2:-15} i a
	for i in $(seq 1 $((limit * 10))); do
		a=$(client_addr6 "$name")
		if [ -n "$a" ]; then
			check_addr6 "$a"
			echo "$a"
			return 0
		fi
		kill -0 "${CLIENT_PID[$name]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ping6_through NS DEST COUNT [ping options]: ping_through for an IPv6 destination.
ping6_through()
{
	local ns=$1 dst=$2 count=$3
	shift 3
	check_addr6 "$dst"
	ip netns exec "$ns" ping -6 -n -q -c "$count" -i 0.2 -W 2 -w $((count + 5)) "$@" "$dst" 2>&1
}

# --- client certificates -----------------------------------------------------------------

# make_client_cert NAME CN [CA-NAME] [TEMPLATE-LINES]: a client key and certificate
# $WORK/pki/NAME.{key,pem} with CN, signed by the test CA (make_certs) or by CA-NAME
# (make_other_ca); TEMPLATE-LINES are added to certtool's template (uid, dates, ...).
make_client_cert()
{
	local name=$1 cn=$2 ca=${3:-ca} extra=${4:-} d=$WORK/pki
	printf 'cn = "%s"\ntls_www_client\nsigning_key\nexpiration_days = 2\n%s\n' "$cn" "$extra" \
		>"$d/$name.tmpl"
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		--outfile "$d/$name.key" >/dev/null 2>&1 &&
		certtool --generate-certificate --load-privkey "$d/$name.key" \
			--load-ca-certificate "$d/$ca.pem" --load-ca-privkey "$d/$ca.key" \
			--template "$d/$name.tmpl" --outfile "$d/$name.pem" >/dev/null 2>&1 ||
		fail "certtool cannot make the client certificate $name"
}

# make_other_ca NAME: a second, unrelated CA $WORK/pki/NAME.{key,pem}.
make_other_ca()
{
	local d=$WORK/pki
	printf 'cn = "another CA"\nca\ncert_signing_key\nexpiration_days = 2\n' >"$d/$1.tmpl"
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		--outfile "$d/$1.key" >/dev/null 2>&1 &&
		certtool --generate-self-signed --load-privkey "$d/$1.key" --template "$d/$1.tmpl" \
			--outfile "$d/$1.pem" >/dev/null 2>&1 || fail "certtool cannot make CA $1"
}

# make_crl [CERT-NAME...]: $WORK/pki/crl.pem of the test CA, revoking those certificates.
make_crl()
{
	local d=$WORK/pki n all=$WORK/pki/revoked.pem
	: >"$all"
	for n in "$@"; do cat "$d/$n.pem" >>"$all"; done
	printf 'crl_next_update = 2\ncrl_number = %s\n' "$(date +%s)" >"$d/crl.tmpl"
	certtool --generate-crl --load-ca-privkey "$d/ca.key" --load-ca-certificate "$d/ca.pem" \
		${1:+--load-certificate "$all"} --template "$d/crl.tmpl" \
		--outfile "$d/crl.pem" >/dev/null 2>&1 || fail "certtool cannot make the CRL"
}
