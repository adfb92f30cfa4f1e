#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Certificates made by sluice-certs alone, used for real: the CA and the server
# certificate (its names: a DNS name and the server's addresses) serve sluiced, and
# openconnect 9.01 verifies the server with --cafile of that CA and no pin, reached by
# its address and by its name (--resolve); a name the certificate does not cover, and
# another sluice-certs CA, are refused. A user's certificate and key (-c/-k) and the
# PKCS#12 file (-c FILE.p12 --key-password) load in openconnect and the password login
# goes on as before; a wrong PKCS#12 password stops the client. A server certificate
# replaced with --force is served after SIGHUP. The login itself is by password: what
# the server does with client certificates is not tested here.
. "$(dirname "$0")/lib.sh"
it_init
CERTS=$top_builddir/src/sluice-certs
[ -x "$CERTS" ] || skip "$CERTS does not exist (build it first)"
PKI=$WORK/pki
NAME=vpn.sluice.test
P12_PASS='p12 pass phrase'

# certs ARGS...: sluice-certs on the test's CA directory; its output goes to the log.
certs()
{
	"$CERTS" --dir "$PKI" "$@" >"$WORK/certs.out" 2>&1 || {
		cat "$WORK/certs.out"
		return 1
	}
	sed 's/^/    /' "$WORK/certs.out"
}

log "sluice-certs: CA, server certificate, alice's certificate and PKCS#12 file"
certs init-ca --cn "sluice test CA" --days 2 || fail "init-ca"
certs server --days 2 $NAME $SRV_IP1 $SRV_IP2 || fail "server"
printf '%s\n' "$P12_PASS" | certs client alice || fail "client alice"
certs check --warn-days 1 --name $NAME --name $SRV_IP1 --name $SRV_IP2 "$PKI/server-cert.pem" \
	"$PKI/server-key.pem" || fail "check of the server certificate"
p12=$(certtool --p12-info --inder --infile "$PKI/clients/alice.p12" --password "$P12_PASS" 2>&1) ||
	fail "certtool cannot open alice.p12: $p12"
grep -q 'Friendly name: alice' <<<"$p12" && grep -q 'PKCS #8 Encrypted key' <<<"$p12" ||
	fail "alice.p12 lacks the key or the certificate: $p12"
CA_CERT=$PKI/ca-cert.pem
SERVER_CERT=$PKI/server-cert.pem
SERVER_KEY=$PKI/server-key.pem
add_user alice alice-pw
write_config
start_server

# Nothing pinned from here on: the client verifies the server with the CA alone.
PIN=
VERIFY=(--no-system-trust --cafile "$CA_CERT")

# login NAME NS [openconnect options...]: alice logs in with her password, gets a tunnel
# and pings the server through it; then she disconnects.
login()
{
	local name=$1 ns=$2 ip srv
	shift 2
	start_client "$name" "$ns" alice alice-pw "$@"
	ip=$(wait_tunnel "$name" 20) || fail "$name: no tunnel"
	srv=$(server_tun_ip "$ip") || fail "$name: no server side of the tunnel"
	ping_through "$ns" "$srv" 2 >/dev/null || fail "$name: no traffic through the tunnel"
	log "$name: tunnel $ip, pings"
	stop_client "$name" INT
}

# refused NAME NS WHY-REGEX [openconnect options...]: the client stops without a tunnel
# and its log says why.
refused()
{
	local name=$1 ns=$2 why=$3
	shift 3
	start_client "$name" "$ns" alice alice-pw "$@"
	expect_refused "$name" "$name"
	grep -Eiq -- "$why" "${CLIENT_LOG[$name]}" ||
		fail "$name: the client log does not say '$why': $(tail -n 5 "${CLIENT_LOG[$name]}")"
}

login by-address "$NS_C1" "${VERIFY[@]}"
grep -q 'Server certificate verify failed' "${CLIENT_LOG[by-address]}" &&
	fail "by-address: openconnect did not verify the server"
CLIENT_URL=https://$NAME:$PORT/ login by-name "$NS_C2" "${VERIFY[@]}" --resolve "$NAME:$SRV_IP2"
CLIENT_URL=https://other.sluice.test:$PORT/ refused wrong-name "$NS_C1" \
	'certificate does not match hostname' \
	"${VERIFY[@]}" --resolve "other.sluice.test:$SRV_IP1"

"$CERTS" --dir "$WORK/other-ca" init-ca --cn "another CA" >/dev/null || fail "a second CA"
refused other-ca "$NS_C1" 'signer not found' --no-system-trust --cafile "$WORK/other-ca/ca-cert.pem"

# The user's certificate and key, and the PKCS#12 file, as openconnect loads them.
login pem-pair "$NS_C1" "${VERIFY[@]}" -c "$PKI/clients/alice-cert.pem" \
	-k "$PKI/clients/alice-key.pem"
login p12 "$NS_C2" "${VERIFY[@]}" -c "$PKI/clients/alice.p12" --key-password "$P12_PASS"
for c in pem-pair p12; do
	grep -q "Using client certificate 'alice'" "${CLIENT_LOG[$c]}" ||
		fail "$c: openconnect did not load alice's certificate"
done
refused p12-wrong-password "$NS_C2" 'Failed to decrypt PKCS#12' "${VERIFY[@]}" \
	-c "$PKI/clients/alice.p12" --key-password "not the password"

# A new server certificate, written over the old one with --force, after a reload.
if [ "$SERVER" = sluiced ]; then
	old=$(compute_pin "$SERVER_CERT")
	certs server --force --days 2 $NAME $SRV_IP1 $SRV_IP2 || fail "server --force"
	[ "$(compute_pin "$SERVER_CERT")" != "$old" ] || fail "server --force kept the old key"
	kill -HUP "$SERVER_PID"
	server_log_has "new connections use the certificate of generation 1" 5 ||
		fail "sluiced did not take the new certificate"
	PIN=$(compute_pin "$SERVER_CERT")
	login new-cert-pinned "$NS_C1"
	PIN=
	login new-cert-cafile "$NS_C1" "${VERIFY[@]}"
fi
pass
