#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the server key in a PKCS#11 token (a SoftHSM2 token the test creates),
# used by sec alone: server-key = pkcs11:..., with key-pin or pin-file. The real client
# connects and pins the certificate's key, so every handshake is signed by the token; a
# wrong PIN is a clear start-up error, and the key is read again from the token on
# SIGHUP. The certificate can be in the token too (server-cert = pkcs11:...), and a key
# that is not the certificate's is a start-up error, whatever holds them.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
require_cmd softhsm2-util p11tool
MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -f "$MODULE" ] || fail "no SoftHSM2 module at $MODULE (apt-get install softhsm2)"
make_certs
add_user alice alice-pw
export SOFTHSM2_CONF=$WORK/softhsm2.conf
mkdir -p "$WORK/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$WORK/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label sluice-test --pin 1234 --so-pin 5678 >/dev/null ||
	fail "cannot create the SoftHSM2 token"
# The private key and its public half, as HSM tools write a key pair.
certtool --load-privkey "$SERVER_KEY" --pubkey-info --outfile "$WORK/pub.pem" >/dev/null 2>&1 ||
	fail "certtool cannot write the public key"
GNUTLS_PIN=1234 p11tool --provider "$MODULE" --login --write --load-privkey "$SERVER_KEY" \
	--load-pubkey "$WORK/pub.pem" --label server-key --mark-private \
	"pkcs11:token=sluice-test" >/dev/null 2>&1 || fail "cannot import the server key into the token"
URL="pkcs11:token=sluice-test;object=server-key;type=private"
# The key leaves the disk: only the token has it.
rm -f "$SERVER_KEY"

write_config "server-key = $URL
key-pin = 1234"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) || fail "sluiced -t refuses the pkcs11: key: $out"
start_server
start_client c1 "$NS_C1" alice alice-pw
ip=$(wait_tunnel c1 15) || fail "no tunnel with the key in the token"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 2) || fail "no traffic: $out"
log "tunnel up with the key in SoftHSM2: $ip"
stop_client c1 INT
# A reload reads the key again from the token (sec keeps no file).
kill -HUP "$SERVER_PID"
server_log_has "server key of generation 1 loaded" 10 || fail "sec did not load the token's key again"
start_client c2 "$NS_C1" alice alice-pw
wait_tunnel c2 15 >/dev/null || fail "no tunnel after the reload"
stop_client c2 INT
stop_server

# pin-file instead of key-pin.
echo 1234 >"$WORK/pin"
chmod 600 "$WORK/pin"
write_config "server-key = $URL
pin-file = $WORK/pin"
start_server
start_client c3 "$NS_C1" alice alice-pw
wait_tunnel c3 15 >/dev/null || fail "no tunnel with pin-file"
stop_client c3 INT
stop_server

# The certificate in the token too: sec reads it and main sends it to workers. The file
# goes, so the certificate the client pins can only have come from the token.
GNUTLS_PIN=1234 p11tool --provider "$MODULE" --login --write --load-certificate "$SERVER_CERT" \
	--label server-cert "pkcs11:token=sluice-test" >/dev/null 2>&1 ||
	fail "cannot import the server certificate into the token"
mv "$SERVER_CERT" "$WORK/server-cert.pem.off"
CERT_URL="pkcs11:token=sluice-test;object=server-cert;type=cert"
write_config "server-key = $URL
server-cert = $CERT_URL
pin-file = $WORK/pin"
out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1) || fail "sluiced -t refuses the pkcs11: certificate: $out"
start_server
start_client c4 "$NS_C1" alice alice-pw
wait_tunnel c4 15 >/dev/null || fail "no tunnel with the certificate in the token"
stop_client c4 INT
kill -HUP "$SERVER_PID"
server_log_has "new connections use the certificate of generation 1" 10 ||
	fail "the reload did not take the token's certificate again"
start_client c5 "$NS_C1" alice alice-pw
wait_tunnel c5 15 >/dev/null || fail "no tunnel after a reload with the certificate in the token"
stop_client c5 INT
stop_server
log "server-cert and server-key both in SoftHSM2: logins before and after SIGHUP"

# A key that is not the certificate's: sluiced does not start (it used to, and every
# handshake then failed).
certtool --generate-privkey --key-type ecdsa --outfile "$WORK/other-key.pem" >/dev/null 2>&1 ||
	fail "certtool cannot make a key"
for cert in "$CERT_URL" "$WORK/server-cert.pem.off"; do
	write_config "server-key = $WORK/other-key.pem
server-cert = $cert
pin-file = $WORK/pin"
	SERVER_LOG=$WORK/mismatch.log
	ip netns exec "$NS_SRV" timeout 20 "$(server_bin)" -f -c "$SERVER_CONF" >"$SERVER_LOG" 2>&1
	rc=$?
	[ $rc != 0 ] && [ $rc != 124 ] || fail "sluiced started (or hung) with a key that is not $cert's (exit $rc)"
	grep -q "does not match server-cert" "$SERVER_LOG" ||
		fail "no clear error for a key that is not the certificate's: $(tail -n 3 "$SERVER_LOG")"
	log "key of another certificate ($cert): exit $rc, $(grep -m1 'does not match' "$SERVER_LOG")"
done
mv "$WORK/server-cert.pem.off" "$SERVER_CERT"

# A wrong PIN: sluiced does not start, and says why.
write_config "server-key = $URL
key-pin = 9999"
SERVER_LOG=$WORK/wrong-pin.log
ip netns exec "$NS_SRV" timeout 20 "$(server_bin)" -f -c "$SERVER_CONF" >"$SERVER_LOG" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || fail "sluiced started (or hung) with a wrong PIN (exit $rc)"
grep -q "the token refused the PIN" "$SERVER_LOG" || fail "no clear error for the wrong PIN: $(tail -n 3 "$SERVER_LOG")"
grep -q "sluiced ready" "$SERVER_LOG" && fail "sluiced said it was ready with a key it cannot use"
log "wrong PIN: exit $rc, $(grep -m1 'refused the PIN' "$SERVER_LOG")"
pass
