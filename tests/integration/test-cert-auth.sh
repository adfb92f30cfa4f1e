#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# Client-certificate login with openconnect 9.01 (-c/-k, and a PKCS#12 bundle), as
# ocserv's keys define it:
# - auth = certificate: a certificate of the CA logs its CN in without a form; sluicectl
#   shows how (Authentication) and the certificate's subject; the CONNECT, on a new TLS
#   connection, must present the same certificate;
# - refused, with the reason in the log and the audit file: no certificate, another CA's,
#   an expired one, and one revoked by a CRL read again on SIGHUP, without a restart;
# - auth = certificate with enable-auth = plain: either works alone;
# - auth = plain and auth = certificate: both are needed, for the same user;
# - cert-pin in a user's file: another certificate of the CA that names the user (a
#   stolen or mis-issued one) is refused.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
require_cmd jq
require_ctl
make_certs
add_user alice alice-pw
add_user bob bob-pw
make_client_cert alice alice
make_client_cert bob bob
make_client_cert old alice ca 'activation_date = "2020-01-01 00:00:00"
expiration_date = "2020-06-01 00:00:00"'
make_other_ca evil
make_client_cert forged alice evil
make_client_cert alice2 alice
add_user carol carol-pw
make_client_cert carol carol
make_client_cert carol2 carol
make_crl
P=$WORK/pki
AUDIT=$WORK/audit.json
# sha256: of a certificate's DER, as cert-pin takes it.
pin_of() { echo "sha256:$(certtool --certificate-info --infile "$P/$1.pem" --outder 2>/dev/null | sha256sum | cut -c1-64)"; }
mkdir -p "$WORK/users"
echo "cert-pin = $(pin_of carol)" >"$WORK/users/carol"

# cert_client NAME NS CERT [openconnect options]: a client with certificate CERT.
cert_client()
{
	local name=$1 ns=$2 c=$3
	shift 3
	start_client "$name" "$ns" "${USER_FOR:-nobody}" "${PASS_FOR:-x}" -c "$P/$c.pem" -k "$P/$c.key" "$@"
}

write_config "auth = certificate
ca-cert = $P/ca.pem
crl = $P/crl.pem
cert-user-oid = 2.5.4.3
config-per-user = $WORK/users
audit-log = $AUDIT"
start_server

cert_client c1 "$NS_C1" alice
ip=$(wait_tunnel c1 15) || fail "alice's certificate gave no tunnel"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 2) || fail "no traffic: $out"
grep -q "Please enter" "${CLIENT_LOG[c1]}" &&
	fail "the client was shown a login form"
json=$(ctl --json show user alice) || fail "sluicectl show user alice failed"
[ "$(jq -r '.[0].Authentication' <<<"$json")" = certificate ] || fail "Authentication is not certificate: $json"
jq -r '.[0]["Certificate subject"]' <<<"$json" | grep -q "CN=alice" || fail "no certificate subject: $json"
grep -q '"auth":"certificate"' "$AUDIT" || fail "the audit record does not say certificate"
log "alice logged in with her certificate: $ip"
stop_client c1 INT
# The session is bound to the certificate: its cookie alone, on a connection without
# it, gets no tunnel (unless cisco-client-compat, at the end).
cookie=$(ip netns exec "$NS_C1" timeout 20 openconnect --authenticate --non-inter \
	--servercert "$PIN" -c "$P/alice.pem" -k "$P/alice.key" "https://$SRV_IP1:$PORT/" \
	</dev/null 2>>"$WORK/authenticate.log" | sed -n "s/^COOKIE='\(.*\)'\$/\1/p")
[ -n "$cookie" ] || fail "no cookie for alice's certificate: $(tail -n 3 "$WORK/authenticate.log")"
start_cookie_client c1b "$NS_C1" "$cookie"
expect_refused c1b "the certificate's cookie without the certificate"
server_log_has "the session's client certificate was not presented" 5 ||
	fail "no log line says the certificate was missing"

start_client c2 "$NS_C1" alice alice-pw
expect_refused c2 "no certificate"
# The same certificate as a PKCS#12 bundle, as Cisco Secure Client and NetworkManager
# import it.
certtool --to-p12 --load-privkey "$P/alice.key" --load-certificate "$P/alice.pem" \
	--p12-name alice --password p12-secret --outder --outfile "$P/alice.p12" >/dev/null 2>&1 ||
	fail "certtool cannot make the PKCS#12 bundle"
start_client c2b "$NS_C1" nobody x -c "$P/alice.p12" --key-password p12-secret
wait_tunnel c2b 15 >/dev/null || fail "alice's PKCS#12 bundle gave no tunnel"
stop_client c2b INT
# Pinned: carol's own certificate passes, another one naming carol does not; alice has no
# pins, so a second certificate naming her passes too.
cert_client p1 "$NS_C2" carol
wait_tunnel p1 15 >/dev/null || fail "carol's pinned certificate gave no tunnel"
stop_client p1 INT
cert_client p2 "$NS_C2" carol2
expect_refused p2 "another CA-signed certificate naming carol, who pinned hers"
server_log_has "certificate not pinned for this user" 5 || fail "no log of the unpinned certificate"
cert_client p3 "$NS_C2" alice2
wait_tunnel p3 15 >/dev/null || fail "alice's second certificate gave no tunnel (no pins)"
stop_client p3 INT
cert_client c3 "$NS_C1" forged
expect_refused c3 "a certificate of another CA"
server_log_has "refused: certificate not signed by ca-cert" 5 || fail "no log of the other CA"
cert_client c4 "$NS_C1" old
expect_refused c4 "an expired certificate"
server_log_has "refused: certificate expired" 5 || fail "no log of the expired certificate"
grep -q '"reason":"certificate expired"' "$AUDIT" || fail "the audit file has no expired certificate"

# Revoked: a new CRL and SIGHUP, no restart.
make_crl bob
cert_client c5 "$NS_C2" bob
wait_tunnel c5 15 >/dev/null || fail "bob's certificate gave no tunnel before its revocation"
stop_client c5 INT
loads=$(grep -c "client certificates: CA .* CRL" "$SERVER_LOG")
kill -HUP "$SERVER_PID"
wait_output 10 awk -v n="$loads" '/client certificates: CA .* CRL/ { c++ } END { if (c > n) print c }' \
	"$SERVER_LOG" >/dev/null || fail "sec did not read the CRL again after SIGHUP"
cert_client c6 "$NS_C2" bob
expect_refused c6 "a revoked certificate"
server_log_has "refused: certificate revoked" 5 || fail "no log of the revoked certificate"

# Either: the certificate, or the password alone.
stop_server
write_config "auth = certificate
enable-auth = \"plain[passwd=$PASSWD_FILE]\"
ca-cert = $P/ca.pem
cert-user-oid = 2.5.4.3"
start_server
start_client c7 "$NS_C1" bob bob-pw
wait_tunnel c7 15 >/dev/null || fail "bob's password alone gave no tunnel (enable-auth)"
[ "$(ctl --json show user bob | jq -r '.[0].Authentication')" = password ] || fail "bob's login is not password"
stop_client c7 INT
cert_client c8 "$NS_C1" alice
wait_tunnel c8 15 >/dev/null || fail "alice's certificate alone gave no tunnel (either)"
stop_client c8 INT

# Both: the password and a certificate of the same user.
stop_server
write_config "auth = \"plain[passwd=$PASSWD_FILE]\"
auth = certificate
ca-cert = $P/ca.pem
cert-user-oid = 2.5.4.3"
start_server
USER_FOR=alice PASS_FOR=alice-pw cert_client c9 "$NS_C1" alice
wait_tunnel c9 15 >/dev/null || fail "alice's certificate and password gave no tunnel"
[ "$(ctl --json show user alice | jq -r '.[0].Authentication')" = certificate+password ] ||
	fail "alice's login is not certificate+password"
stop_client c9 INT
start_client c10 "$NS_C1" alice alice-pw
expect_refused c10 "the password without a certificate"
USER_FOR=alice PASS_FOR=alice-pw cert_client c11 "$NS_C1" bob
expect_refused c11 "alice's password with bob's certificate"
server_log_has "certificate names another user" 5 || fail "no log of the other user's certificate"

# cisco-client-compat = true: as for old Cisco clients, the cookie of a certificate login
# reconnects without the certificate.
stop_server
write_config "auth = certificate
ca-cert = $P/ca.pem
cert-user-oid = 2.5.4.3
cisco-client-compat = true"
start_server
cookie=$(ip netns exec "$NS_C1" timeout 20 openconnect --authenticate --non-inter \
	--servercert "$PIN" -c "$P/alice.pem" -k "$P/alice.key" "https://$SRV_IP1:$PORT/" \
	</dev/null 2>>"$WORK/authenticate.log" | sed -n "s/^COOKIE='\(.*\)'\$/\1/p")
[ -n "$cookie" ] || fail "no cookie for alice's certificate: $(tail -n 3 "$WORK/authenticate.log")"
start_cookie_client c12 "$NS_C1" "$cookie"
wait_tunnel c12 15 >/dev/null || fail "cisco-client-compat: the certificate's cookie alone gave no tunnel"
stop_client c12 INT
log "cisco-client-compat: the certificate's cookie reconnects without the certificate"
pass
