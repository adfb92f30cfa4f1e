#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the handshake signatures sec makes for workers (src/sec/sec_sign.c), with
# an RSA and an ECDSA server key, in TLS 1.3 (the default tls-priorities) and TLS 1.2
# (tls-priorities changed by SIGHUP, which sec follows): openconnect logs in and its
# tunnel passes traffic, and it reports the version and signature algorithm the test
# expects. gnutls-cli then asks for the other shapes sec signs: RSA PKCS#1 v1.5 with
# SHA-384 and SHA-1, and, once tls-priorities enable TLS 1.0, its MD5+SHA-1 signature;
# ECDSA with SHA-384 and SHA-1.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd gnutls-cli
it_init

PRIO_13="NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"
PRIO_12="NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-ALL:+VERS-TLS1.2"
PRIO_10="NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.0"
# A client of TLS 1.2 that offers the signature algorithms added to this.
TLS12="NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL"
GEN=0

# reload PRIORITIES: new tls-priorities (and whatever certificate the files hold now),
# waits until sec has answered.
reload()
{
	write_config "tls-priorities = \"$1\""
	GEN=$((GEN + 1))
	kill -HUP "$SERVER_PID"
	server_log_has "new connections use the certificate of generation $GEN" 5 ||
		fail "reload $GEN did not complete"
}

# login NAME VERSION SIGNATURE: openconnect logs in, pings through its tunnel and
# reports "(VERSION)-(...)-(SIGNATURE)-(...)"; then it disconnects.
login()
{
	local name=$1 ip srv
	start_client "$name" "$NS_C1" alice alice-pw
	ip=$(wait_tunnel "$name" 20) || fail "$name: no tunnel"
	srv=$(server_tun_ip "$ip") || fail "$name: no server side of the tunnel"
	ping_through "$NS_C1" "$srv" 2 >/dev/null || fail "$name: no traffic through the tunnel"
	grep -q "ciphersuite ($2)-([^)]*)-($3)-" "${CLIENT_LOG[$name]}" ||
		fail "$name: not $2 with $3: $(grep -m1 ciphersuite "${CLIENT_LOG[$name]}")"
	log "$name: $(grep -m1 -o 'ciphersuite .*' "${CLIENT_LOG[$name]}"), tunnel pings"
	stop_client "$name" INT
}

# handshake NAME PRIORITIES VERSION SIGNATURE: gnutls-cli completes a handshake with the
# client-side PRIORITIES; the worker logs VERSION and SIGNATURE for it.
handshake()
{
	local out re="TLS established: \\($3\\)-\\([^)]*\\)-\\($4\\)-" before
	before=$(grep -Ec -- "$re" "$SERVER_LOG")
	out=$(ip netns exec "$NS_C1" timeout 20 gnutls-cli --priority "$2" \
		--x509cafile "$CA_CERT" -p "$PORT" "$SRV_IP1" </dev/null 2>&1)
	grep -q "^- Handshake was completed" <<<"$out" ||
		fail "$1: handshake failed: $(grep -E '^\*|Error' <<<"$out" | head -n 3)"
	for _ in $(seq 1 30); do
		[ "$(grep -Ec -- "$re" "$SERVER_LOG")" -gt "$before" ] && break
		sleep 0.1
	done
	[ "$(grep -Ec -- "$re" "$SERVER_LOG")" -gt "$before" ] ||
		fail "$1: not $3 signed with $4: $(grep 'TLS established' "$SERVER_LOG" | tail -n 1)"
	log "$1: $(grep -o 'TLS established: .*' "$SERVER_LOG" | tail -n 1)"
}

make_certs_rsa
add_user alice alice-pw
write_config
start_server
login rsa-tls13 TLS1.3 RSA-PSS-RSAE-SHA256
reload "$PRIO_12"
login rsa-tls12 TLS1.2 RSA-SHA256
handshake rsa-pkcs1-sha384 "$TLS12:+SIGN-RSA-SHA384" TLS1.2 RSA-SHA384
handshake rsa-pkcs1-sha1 "$TLS12:+SIGN-RSA-SHA1" TLS1.2 RSA-SHA1
handshake rsa-pss-sha512 "$TLS12:+SIGN-RSA-PSS-RSAE-SHA512" TLS1.2 RSA-PSS-RSAE-SHA512
reload "$PRIO_10"
handshake rsa-tls10 "NORMAL:%COMPAT:-VERS-ALL:+VERS-TLS1.0" TLS1.0 RSA-SHA1

make_certs # ECDSA P-256 over the same files; PIN follows
reload "$PRIO_13"
login ecdsa-tls13 TLS1.3 ECDSA-SECP256R1-SHA256
reload "$PRIO_12"
login ecdsa-tls12 TLS1.2 ECDSA-SHA256
handshake ecdsa-sha384 "$TLS12:+SIGN-ECDSA-SHA384" TLS1.2 ECDSA-SHA384
handshake ecdsa-sha1 "$TLS12:+SIGN-ECDSA-SHA1" TLS1.2 ECDSA-SHA1

grep -q "refused to sign" "$SERVER_LOG" && fail "sec refused a real handshake's signature"
pass
