#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: OCSP stapling (ocsp-response). An OCSP response for the server
# certificate, signed by the test CA (openssl's responder), is sent in the handshake:
# gnutls-cli --ocsp and openssl s_client -status see it, and the real client still logs
# in. A response for another certificate stops the start with the reason; a new
# response is read again on SIGHUP; a stale one (made two days ago under faketime, valid
# for one) gives a warning, at start and on reload, and is not stapled.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
require_cmd openssl gnutls-cli faketime
make_certs
add_user alice alice-pw
P=$WORK/pki

# ocsp_for CERT OUT [AGO]: a "good" response for CERT, signed by the CA, valid one day
# from AGO (a faketime offset such as -2d; default now).
ocsp_for()
{
	local serial exp subj
	serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
	exp=$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)
	subj=$(openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//')
	printf 'V\t%s\t\t%s\tunknown\t%s\n' "$(date -u -d "$exp" +%y%m%d%H%M%SZ)" "$serial" \
		"$subj" >"$P/index.txt"
	openssl ocsp -issuer "$P/ca.pem" -cert "$1" -reqout "$P/req.der" -no_nonce >/dev/null 2>&1 &&
		faketime -f "${3:-+0}" openssl ocsp -index "$P/index.txt" -rsigner "$P/ca.pem" -rkey "$P/ca.key" \
			-CA "$P/ca.pem" -reqin "$P/req.der" -respout "$2" -ndays 1 >/dev/null 2>&1 ||
		fail "openssl cannot make an OCSP response for $1"
}

# gnutls_cli_out: what gnutls-cli --ocsp says of the server's handshake.
gnutls_cli_out()
{
	ip netns exec "$NS_C1" timeout 10 gnutls-cli --ocsp --x509cafile "$P/ca.pem" \
		--verify-hostname "$SRV_IP1" -p "$PORT" "$SRV_IP1" </dev/null 2>&1
}

# Without ocsp-response nothing is stapled.
write_config
start_server
gnutls_cli_out | grep -q "Options: .*OCSP status request" && fail "a status was stapled without ocsp-response"
stop_server

ocsp_for "$SERVER_CERT" "$WORK/ocsp.der"
write_config "ocsp-response = $WORK/ocsp.der"
start_server
out=$(ip netns exec "$NS_C1" timeout 10 openssl s_client -status -connect "$SRV_IP1:$PORT" \
	</dev/null 2>&1)
grep -q "OCSP Response Status: successful" <<<"$out" ||
	fail "openssl s_client -status saw no stapled response: $(grep -i ocsp <<<"$out" | head -n 3)"
grep -q "Cert Status: good" <<<"$out" || fail "the stapled response does not say good"
out=$(gnutls_cli_out)
# gnutls-cli lists the stapled status among the session's options, and with --ocsp it
# trusts the certificate only when that response says good.
grep -q "Options: .*OCSP status request" <<<"$out" && grep -q "The certificate is trusted" <<<"$out" ||
	fail "gnutls-cli --ocsp saw no good stapled response: $out"
log "gnutls-cli: $(grep -E 'Options|Status' <<<"$out" | tr '\n' ' ')"
start_client c1 "$NS_C1" alice alice-pw
wait_tunnel c1 15 >/dev/null || fail "no tunnel with stapling on"
stop_client c1 INT

# A stale response: a warning on every reload until a fresh one comes.
ocsp_for "$SERVER_CERT" "$WORK/ocsp.der" -2d
kill -HUP "$SERVER_PID"
server_log_has "ocsp-response .* is stale \\(its next update was due" 10 ||
	fail "no warning for a stale OCSP response on reload"
log "stale on reload: $(grep -m1 'is stale' "$SERVER_LOG")"

# A response for another certificate: not used, and sluiced says why.
make_client_cert other other
ocsp_for "$P/other.pem" "$WORK/other.der"
cp "$WORK/other.der" "$WORK/ocsp.der"
kill -HUP "$SERVER_PID"
server_log_has "reload.*not a response for server-cert|not a response for server-cert" 5 ||
	fail "the reload took a response for another certificate"
stop_server
SERVER_LOG=$WORK/mismatch.log
ip netns exec "$NS_SRV" timeout 20 "$(server_bin)" -f -c "$SERVER_CONF" >"$SERVER_LOG" 2>&1
rc=$?
[ $rc = 1 ] || fail "sluiced started with a response for another certificate (exit $rc)"
grep -q "not a response for server-cert" "$SERVER_LOG" || fail "no reason for the refused response"

# A stale response at start: sluiced starts and says so; clients get no stapled status
# (GnuTLS sends none past its next update), and still log in.
ocsp_for "$SERVER_CERT" "$WORK/ocsp.der" -2d
SERVER_LOG=$WORK/stale.log
start_server
server_log_has "ocsp-response .* is stale .* not stapled" 5 ||
	fail "no warning for a stale OCSP response at start"
out=$(ip netns exec "$NS_C1" timeout 10 openssl s_client -status -connect "$SRV_IP1:$PORT" \
	</dev/null 2>&1)
grep -q "OCSP response: no response sent" <<<"$out" ||
	fail "a stale response was stapled, or no handshake: $(grep -i -m3 -E 'ocsp|error' <<<"$out")"
start_client c2 "$NS_C1" alice alice-pw
wait_tunnel c2 15 >/dev/null || fail "no tunnel with a stale ocsp-response"
stop_client c2 INT
stop_server
pass
