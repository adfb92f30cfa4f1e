#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluice-certs end to end, every command, each checked by certtool (and openssl where it
# is installed) rather than by the tool itself: the CA, server and client certificates
# and what they hold, the PKCS#12 file and its password, revocation and the CRL, check
# and show, file modes whatever the umask, --force, the lock, a damaged state file, and
# the error and usage exit codes. No network; runs as any user.
set -u

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN="$top_builddir/src/sluice-certs"

if [ ! -x "$BIN" ]; then
	echo "skip: $BIN not built"
	exit 77
fi
if ! command -v certtool >/dev/null; then
	echo "skip: certtool (gnutls-bin) is needed to check what sluice-certs writes"
	exit 77
fi
HAVE_OPENSSL=no
command -v openssl >/dev/null && HAVE_OPENSSL=yes

tmp=$(mktemp -d /tmp/test-certs-tool.XXXXXX) || exit 1
LOCK_PID=
cleanup()
{
	[ -n "$LOCK_PID" ] && kill "$LOCK_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
D=$tmp/pki
failures=0

fail()
{
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect CODE PATTERN CMD...: exit code and a line on stdout or stderr matching PATTERN
expect()
{
	local code=$1 pattern=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	[ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code: $(cat "$tmp/err")"
	grep -q -- "$pattern" "$tmp/out" "$tmp/err" ||
		fail "'$*': no '$pattern' in: $(cat "$tmp/out" "$tmp/err")"
}

# mode FILE WANT
mode()
{
	local got
	got=$(stat -c %a "$1")
	[ "$got" = "$2" ] || fail "$1 has mode $got, expected $2"
}

# info FILE: certtool's description of a certificate
info() { certtool -i --infile "$1" 2>&1; }

# verified CA CERT: certtool verifies CERT against CA
verified()
{
	certtool --verify --load-ca-certificate "$1" --infile "$2" 2>&1 |
		grep -q 'Chain verification output: Verified'
}

sums() { sha256sum "$@" 2>/dev/null; }

# --- init-ca: the files, their modes whatever the umask, and what the CA holds -------------
(umask 0 && "$BIN" --dir "$D" init-ca --cn "Test VPN CA" >"$tmp/out" 2>&1) ||
	fail "init-ca: $(cat "$tmp/out")"
grep -q "wrote $D/ca-key.pem (ECDSA P-256 key, mode 0600)" "$tmp/out" || fail "init-ca progress"
mode "$D" 755
mode "$D/ca-key.pem" 600
mode "$D/ca-cert.pem" 644
mode "$D/ca-state" 600
mode "$D/crl.pem" 644
ca=$(info "$D/ca-cert.pem")
grep -q 'Subject: CN=Test VPN CA' <<<"$ca" || fail "CA subject: $ca"
grep -q 'Issuer: CN=Test VPN CA' <<<"$ca" || fail "CA not self-signed"
grep -q 'Certificate Authority (CA): TRUE' <<<"$ca" || fail "CA basic constraints"
grep -q 'Path Length Constraint: 0' <<<"$ca" || fail "CA path length"
grep -q 'Certificate signing' <<<"$ca" || fail "CA key usage: certificate signing"
grep -q 'CRL signing' <<<"$ca" || fail "CA key usage: CRL signing"
grep -q 'Curve:	SECP256R1' <<<"$ca" || fail "CA key is not P-256"
verified "$D/ca-cert.pem" "$D/ca-cert.pem" || fail "the CA does not verify itself"
certtool -k --infile "$D/ca-key.pem" >/dev/null 2>&1 || fail "certtool cannot read the CA key"
certtool --verify-crl --load-ca-certificate "$D/ca-cert.pem" --infile "$D/crl.pem" 2>&1 |
	grep -q 'Verified' || fail "the first CRL does not verify"
certtool --crl-info --infile "$D/crl.pem" 2>&1 | grep -q 'No revoked certificates' ||
	fail "the first CRL lists revoked certificates"
grep -qx 'format 1' "$D/ca-state" || fail "state: no format line"
grep -qx 'crl-number 1' "$D/ca-state" || fail "state: crl-number is not 1"
grep -Eq '^cert [0-9a-f]{32} [0-9TZ:-]{20} [0-9TZ:-]{20} - ca Test VPN CA$' "$D/ca-state" ||
	fail "state: no CA line: $(cat "$D/ca-state")"
ca_serial=$(awk '$1 == "cert" && $6 == "ca" { print $2 }' "$D/ca-state")
grep -qi "Serial Number (hex): $ca_serial" <<<"$ca" || fail "state serial is not the CA's"

# Again, without --force: refused before anything changes.
before=$(sums "$D"/*)
expect 1 "ca-key.pem exists already; --force replaces it" "$BIN" --dir "$D" init-ca
[ "$(sums "$D"/*)" = "$before" ] || fail "a refused init-ca changed files"

# --- server: names as SANs, TLS server purpose, signed by the CA ------------------------------
(umask 077 && "$BIN" server --dir "$D" vpn.sluice.test 198.18.0.1 fd00:18:0:1::1 \
	'*.tunnel.sluice.test' >"$tmp/out" 2>&1) || fail "server: $(cat "$tmp/out")"
mode "$D/server-key.pem" 600
mode "$D/server-cert.pem" 644
grep -q "server-cert = $D/server-cert.pem" "$tmp/out" || fail "server: no sluiced.conf line"
srv=$(info "$D/server-cert.pem")
grep -q 'Subject: CN=vpn.sluice.test' <<<"$srv" || fail "server subject"
grep -q 'Issuer: CN=Test VPN CA' <<<"$srv" || fail "server issuer"
for n in 'DNSname: vpn.sluice.test' 'IPAddress: 198.18.0.1' 'IPAddress: fd00:18:0:1::1' \
	'DNSname: \*.tunnel.sluice.test' 'TLS WWW Server' 'Digital signature' \
	'Certificate Authority (CA): FALSE' 'Authority Key Identifier' 'Subject Key Identifier'; do
	grep -q "$n" <<<"$srv" || fail "server certificate lacks '$n'"
done
grep -q 'TLS WWW Client' <<<"$srv" && fail "server certificate has the client purpose"
verified "$D/ca-cert.pem" "$D/server-cert.pem" || fail "server certificate does not verify"
pin=$(grep -o 'pin-sha256:[A-Za-z0-9+/=]*' <<<"$srv" | head -n 1)
grep -qF -- "--servercert $pin" "$tmp/out" || fail "server prints another pin than certtool's $pin"
if [ $HAVE_OPENSSL = yes ]; then
	openssl verify -CAfile "$D/ca-cert.pem" -purpose sslserver -verify_hostname vpn.sluice.test \
		"$D/server-cert.pem" >/dev/null 2>&1 || fail "openssl: not a server for vpn.sluice.test"
	openssl verify -CAfile "$D/ca-cert.pem" -verify_ip 198.18.0.1 "$D/server-cert.pem" \
		>/dev/null 2>&1 || fail "openssl: not a server for 198.18.0.1"
	openssl verify -CAfile "$D/ca-cert.pem" -verify_hostname other.sluice.test \
		"$D/server-cert.pem" >/dev/null 2>&1 && fail "openssl: a server for other.sluice.test"
	openssl pkey -in "$D/server-key.pem" -noout 2>/dev/null || fail "openssl cannot read the key"
fi

# Existing files: refused without --force, replaced with it.
key_sum=$(sums "$D/server-key.pem")
expect 1 "server-key.pem exists already" "$BIN" --dir "$D" server vpn.sluice.test
[ "$(sums "$D/server-key.pem")" = "$key_sum" ] || fail "a refused server replaced the key"
"$BIN" --dir "$D" server --force --out second --cn "Second" second.sluice.test >/dev/null ||
	fail "server --out"
grep -q 'Subject: CN=Second' <<<"$(info "$D/second-cert.pem")" || fail "--cn/--out"
"$BIN" --dir "$D" server --force vpn.sluice.test 198.18.0.1 >/dev/null || fail "server --force"
[ "$(sums "$D/server-key.pem")" != "$key_sum" ] || fail "server --force kept the old key"

# --- client: CN, UID, e-mail name, client purpose; the PKCS#12 file ----------------------------
echo 'p12 secret' | "$BIN" --dir "$D" client --uid --email alice@sluice.test alice \
	>"$tmp/out" 2>&1 || fail "client alice: $(cat "$tmp/out")"
mode "$D/clients" 700
mode "$D/clients/alice-key.pem" 600
mode "$D/clients/alice-cert.pem" 644
mode "$D/clients/alice.p12" 600
cli=$(info "$D/clients/alice-cert.pem")
grep -q 'Subject: CN=alice,UID=alice\|Subject: UID=alice,CN=alice' <<<"$cli" ||
	fail "client subject: $(grep Subject: <<<"$cli")"
for n in 'RFC822Name: alice@sluice.test' 'TLS WWW Client' 'Digital signature' \
	'Certificate Authority (CA): FALSE'; do
	grep -q "$n" <<<"$cli" || fail "client certificate lacks '$n'"
done
grep -q 'TLS WWW Server' <<<"$cli" && fail "client certificate has the server purpose"
verified "$D/ca-cert.pem" "$D/clients/alice-cert.pem" || fail "client certificate does not verify"
p12=$(certtool --p12-info --inder --infile "$D/clients/alice.p12" --password 'p12 secret' 2>&1)
grep -q 'MAC: SHA256' <<<"$p12" || fail "PKCS#12 MAC is not SHA-256: $p12"
grep -q 'PBES2-AES256-CBC' <<<"$p12" || fail "PKCS#12 is not AES-256"
[ "$(grep -c 'BEGIN CERTIFICATE' <<<"$p12")" = 2 ] || fail "PKCS#12 does not hold 2 certificates"
grep -q 'PKCS #8 Encrypted key' <<<"$p12" || fail "PKCS#12 holds no encrypted key"
grep -q 'Friendly name: alice' <<<"$p12" || fail "PKCS#12 friendly name"
certtool --p12-info --inder --infile "$D/clients/alice.p12" --password wrong >/dev/null 2>&1 &&
	fail "certtool opens the PKCS#12 file with a wrong password"
if [ $HAVE_OPENSSL = yes ]; then
	openssl pkcs12 -in "$D/clients/alice.p12" -passin 'pass:p12 secret' -nokeys 2>/dev/null |
		grep -q 'subject=.*alice' || fail "openssl cannot read the PKCS#12 file"
	openssl pkcs12 -in "$D/clients/alice.p12" -passin 'pass:p12 secret' -nocerts -nodes \
		2>/dev/null | openssl pkey -pubout 2>/dev/null >"$tmp/p12pub"
	openssl pkey -in "$D/clients/alice-key.pem" -pubout >"$tmp/keypub" 2>/dev/null
	cmp -s "$tmp/p12pub" "$tmp/keypub" || fail "the PKCS#12 key is not alice-key.pem"
	openssl verify -CAfile "$D/ca-cert.pem" -purpose sslclient "$D/clients/alice-cert.pem" \
		>/dev/null 2>&1 || fail "openssl: not a TLS client certificate"
fi

echo 'pw' | "$BIN" --dir "$D" client --p12-legacy bob >/dev/null 2>&1 || fail "client bob"
p12=$(certtool --p12-info --inder --infile "$D/clients/bob.p12" --password pw 2>&1)
grep -q 'MAC: SHA1' <<<"$p12" || fail "legacy PKCS#12 MAC is not SHA-1"
grep -q 'PKCS12-3DES-SHA1' <<<"$p12" || fail "legacy PKCS#12 is not 3DES"
grep -q 'UID=' <<<"$(info "$D/clients/bob-cert.pem")" && fail "bob got a UID without --uid"
"$BIN" --dir "$D" client --no-p12 carol >/dev/null </dev/null || fail "client --no-p12"
[ -e "$D/clients/carol.p12" ] && fail "client --no-p12 wrote a PKCS#12 file"

# Bad passwords and names: nothing written.
expect 1 "empty password refused" "$BIN" --dir "$D" client dave
[ -e "$D/clients/dave-key.pem" ] && fail "a refused client wrote a key"
if command -v script >/dev/null; then
	(sleep 1; printf 'one\r'; sleep 0.5; printf 'two\r'; sleep 1) |
		script -qec "'$BIN' --dir '$D' client tty-user" /dev/null >"$tmp/tty" 2>&1
	grep -q "passwords do not match" "$tmp/tty" || fail "no mismatch message: $(cat "$tmp/tty")"
	[ -e "$D/clients/tty-user-key.pem" ] && fail "tty-user written despite the mismatch"
fi
expect 2 "user name '../x'" "$BIN" --dir "$D" client ../x
expect 2 "user name '-x'" "$BIN" --dir "$D" client --no-p12 -- -x
expect 2 "not an address" "$BIN" --dir "$D" client --email 'a b@c' --no-p12 erin
expect 1 "alice-key.pem exists already" "$BIN" --dir "$D" client alice

# --- RSA, and a CA that expires before what it signs would ---------------------------------------
R=$tmp/rsa
"$BIN" --dir "$R" init-ca --key-type rsa --bits 2048 --days 30 >/dev/null || fail "RSA init-ca"
"$BIN" --dir "$R" server --key-type rsa --bits 2048 rsa.sluice.test >"$tmp/out" 2>&1 ||
	fail "RSA server: $(cat "$tmp/out")"
grep -q 'note: valid only until the CA expires' "$tmp/out" || fail "no note of the CA's expiry"
rsa=$(info "$R/server-cert.pem")
grep -q 'Algorithm Security Level: .*(2048 bits)' <<<"$rsa" || fail "not an RSA 2048 key: $rsa"
grep -q 'Key encipherment' <<<"$rsa" || fail "RSA server certificate lacks key encipherment"
[ "$(grep 'Not After' <<<"$rsa")" = "$(info "$R/ca-cert.pem" | grep 'Not After')" ] ||
	fail "the server certificate outlives the CA"
verified "$R/ca-cert.pem" "$R/server-cert.pem" || fail "RSA server certificate does not verify"

# --- check ----------------------------------------------------------------------------------------
expect 0 "no problems" "$BIN" --dir "$D" check --name vpn.sluice.test --name 198.18.0.1 \
	"$D/server-cert.pem" "$D/server-key.pem"
grep -q '^ok: *the key .* belongs to the certificate' "$tmp/out" || fail "check: key line"
grep -q '^ok: *signed by CN=Test VPN CA' "$tmp/out" || fail "check: chain line"
grep -q '^ok: *not revoked' "$tmp/out" || fail "check: CRL line"
expect 1 "does not belong to the certificate" "$BIN" --dir "$D" check "$D/server-cert.pem" \
	"$D/clients/alice-key.pem"
expect 1 "does not cover other.sluice.test" "$BIN" --dir "$D" check --name other.sluice.test \
	"$D/server-cert.pem"
expect 1 "does not cover 198.18.0.9" "$BIN" --dir "$D" check --name 198.18.0.9 \
	"$D/server-cert.pem"
expect 0 "covers alice@sluice.test" "$BIN" --dir "$D" check --name alice@sluice.test \
	"$D/clients/alice-cert.pem"
expect 1 "within the 1000 days of --warn-days" "$BIN" --dir "$D" check --warn-days 1000 \
	"$D/server-cert.pem"
expect 1 "not valid against the CA" "$BIN" --dir "$D" check "$R/server-cert.pem"
expect 1 "not valid against the CA" "$BIN" --dir "$R" check --ca "$D/ca-cert.pem" \
	"$R/server-cert.pem"
expect 0 "chain is not checked" "$BIN" --dir "$tmp/none" check "$D/server-cert.pem"
expect 2 "--crl needs --ca" "$BIN" --dir "$tmp/none" check --crl "$D/crl.pem" \
	"$D/server-cert.pem"
expect 1 "No such file" "$BIN" check "$tmp/missing.pem"
expect 1 "not a certificate" "$BIN" check "$D/ca-state"
expect 1 "the CRL .* is not signed by the CA" "$BIN" check --ca "$D/ca-cert.pem" \
	--crl "$R/crl.pem" "$D/server-cert.pem"

# --- show -------------------------------------------------------------------------------------
expect 0 "subject: *CN=vpn.sluice.test" "$BIN" show "$D/server-cert.pem" "$D/ca-cert.pem"
out=$(cat "$tmp/out")
srv=$(info "$D/server-cert.pem")
pin=$(grep -o 'pin-sha256:[A-Za-z0-9+/=]*' <<<"$srv" | head -n 1)
serial=$(sed -n 's/.*Serial Number (hex): //p' <<<"$srv" | tr -d ':' | tr 'A-F' 'a-f')
grep -qF "key pin:   $pin" <<<"$out" || fail "show: pin is not certtool's $pin"
fp=$(grep -m1 -o 'sha256:[0-9a-f]\{64\}' <<<"$srv")
grep -qF "cert hash: $fp" <<<"$out" || fail "show: fingerprint is not certtool's $fp"
grep -qF "serial:    $serial" <<<"$out" || fail "show: serial is not certtool's $serial"
grep -q 'names: *DNS:vpn.sluice.test, IP:198.18.0.1' <<<"$out" || fail "show: names"
grep -q 'key: *ECDSA P-256' <<<"$out" || fail "show: key"
grep -q 'purposes: *TLS server' <<<"$out" || fail "show: purposes"
grep -q 'CA: *yes (path length 0)' <<<"$out" || fail "show: the CA"
grep -q "$D/ca-cert.pem: certificate 1 of 1" <<<"$out" || fail "show: second file"
certtool --certificate-info --infile "$D/server-cert.pem" --outder --outfile "$tmp/server.der" \
	>/dev/null 2>&1
expect 0 "subject: *CN=vpn.sluice.test" "$BIN" show "$tmp/server.der"
expect 1 "No such file" "$BIN" show "$tmp/missing.pem"

# --- revoke and crl ---------------------------------------------------------------------------
alice_serial=$(sed -n 's/.*Serial Number (hex): //p' <<<"$(info "$D/clients/alice-cert.pem")" |
	tr -d ':' | tr 'A-F' 'a-f')
expect 0 "revoked serial $alice_serial (client alice)" "$BIN" --dir "$D" revoke \
	"$D/clients/alice-cert.pem"
crl=$(certtool --crl-info --infile "$D/crl.pem" 2>&1)
grep -qi "Serial Number (hex): $alice_serial" <<<"$crl" || fail "CRL lacks alice: $crl"
grep -q 'Revoked certificates (1)' <<<"$crl" || fail "CRL does not list exactly one"
grep -q 'CRL Number (not critical): 02' <<<"$crl" || fail "CRL number is not 2"
grep -qx 'crl-number 2' "$D/ca-state" || fail "state: crl-number is not 2"
grep -Eq "^cert $alice_serial .* [0-9TZ:-]{20} client alice$" "$D/ca-state" ||
	fail "state: alice not revoked: $(grep alice "$D/ca-state")"
certtool --verify-crl --load-ca-certificate "$D/ca-cert.pem" --infile "$D/crl.pem" 2>&1 |
	grep -q 'Verified' || fail "the CRL does not verify"
expect 1 "revoked on" "$BIN" --dir "$D" check "$D/clients/alice-cert.pem"
if [ $HAVE_OPENSSL = yes ]; then
	openssl verify -CAfile "$D/ca-cert.pem" -crl_check -CRLfile "$D/crl.pem" \
		"$D/clients/alice-cert.pem" >/dev/null 2>&1 && fail "openssl accepts revoked alice"
	openssl verify -CAfile "$D/ca-cert.pem" -crl_check -CRLfile "$D/crl.pem" \
		"$D/clients/bob-cert.pem" >/dev/null 2>&1 || fail "openssl refuses bob"
fi

# Revoking twice: no error, nothing changes.
before=$(sums "$D/crl.pem" "$D/ca-state")
expect 0 "was revoked on .* already; nothing changed" "$BIN" --dir "$D" revoke \
	"$D/clients/alice-cert.pem"
[ "$(sums "$D/crl.pem" "$D/ca-state")" = "$before" ] || fail "a second revoke changed files"

# By serial, as certtool prints it (upper case, colons).
bob_serial=$(sed -n 's/.*Serial Number (hex): //p' <<<"$(info "$D/clients/bob-cert.pem")")
bob_colons=$(tr 'a-f' 'A-F' <<<"$bob_serial" | sed 's/../&:/g; s/:$//')
expect 0 "revoked serial .* (client bob)" "$BIN" --dir "$D" revoke --serial "$bob_colons"
grep -q 'Revoked certificates (2)' <<<"$(certtool --crl-info --infile "$D/crl.pem" 2>&1)" ||
	fail "CRL does not list bob"
expect 0 "revoked .* bob" "$BIN" --dir "$D" list
grep -q "^$ca_serial  ca .*valid .*Test VPN CA$" "$tmp/out" || fail "list: the CA: $(cat "$tmp/out")"

expect 1 "signed no certificate with serial 00ff" "$BIN" --dir "$D" revoke --serial 00ff
expect 2 "hex digits" "$BIN" --dir "$D" revoke --serial xyz
expect 1 "the CA's own certificate" "$BIN" --dir "$D" revoke "$D/ca-cert.pem"
expect 1 "was not signed by this CA" "$BIN" --dir "$D" revoke "$R/server-cert.pem"
expect 2 "one of the two" "$BIN" --dir "$D" revoke --serial 00ff "$D/server-cert.pem"
expect 2 "one of the two" "$BIN" --dir "$D" revoke

# A certificate of this CA that the state lost: revoked by file, added as "other".
grep -v ' client carol$' "$D/ca-state" >"$tmp/state" && cp "$tmp/state" "$D/ca-state"
expect 0 "is not in .*ca-state; it is added" "$BIN" --dir "$D" revoke "$D/clients/carol-cert.pem"
grep -q ' other carol$' "$D/ca-state" || fail "carol not added as other"

# crl: a new number and next update.
expect 0 "CRL number 5, 3 revoked" "$BIN" --dir "$D" crl --days 10
crl=$(certtool --crl-info --infile "$D/crl.pem" 2>&1)
next=$(date -u -d "$(sed -n 's/.*Next at: //p' <<<"$crl")" +%s)
now=$(date +%s)
[ $((next - now)) -gt $((9 * 86400)) ] && [ $((next - now)) -le $((10 * 86400)) ] ||
	fail "crl --days 10: next update $(sed -n 's/.*Next at: //p' <<<"$crl")"
expect 0 "revoked: *3" "$BIN" show "$D/crl.pem"
grep -q "serial $alice_serial on" "$tmp/out" || fail "show of the CRL lacks alice"

# --- the state file: damage is named by file and line, and nothing changes ------------------
cp "$D/ca-state" "$tmp/state.good"
echo 'cert zz 2026-01-01T00:00:00Z 2027-01-01T00:00:00Z - server x' >>"$D/ca-state"
n=$(wc -l <"$D/ca-state")
before=$(sums "$D"/*.pem)
expect 1 "ca-state:$n: bad serial" "$BIN" --dir "$D" crl
expect 1 "ca-state:$n: bad serial" "$BIN" --dir "$D" list
expect 1 "ca-state:$n: bad serial" "$BIN" --dir "$D" server --force x.sluice.test
[ "$(sums "$D"/*.pem)" = "$before" ] || fail "a damaged state file let files change"
cp "$tmp/state.good" "$D/ca-state"

# --- missing or broken CA -------------------------------------------------------------------
expect 1 "no CA in $tmp/none" "$BIN" --dir "$tmp/none" server a.sluice.test
expect 1 "no CA in $tmp/none" "$BIN" --dir "$tmp/none" list
expect 1 "no CA in $tmp/none" "$BIN" --dir "$tmp/none" revoke --serial 00ff
cp -r "$D" "$tmp/mixed"
cp "$R/ca-key.pem" "$tmp/mixed/ca-key.pem"
expect 1 "does not belong to" "$BIN" --dir "$tmp/mixed" server --force a.sluice.test

# --- the lock: a second writer waits, then gives up --------------------------------------------
if command -v flock >/dev/null; then
	flock -x "$D/ca.lock" sleep 15 &
	LOCK_PID=$!
	sleep 0.5
	start=$(date +%s)
	expect 1 "still locked by another process" "$BIN" --dir "$D" crl
	[ $(($(date +%s) - start)) -ge 9 ] || fail "gave up on the lock before 10 s"
	kill "$LOCK_PID" 2>/dev/null
	wait "$LOCK_PID" 2>/dev/null
	LOCK_PID=
fi

left=$(find "$tmp" -mindepth 1 -name '*.??????')
[ -z "$left" ] || fail "temporary files left: $left"

# --- usage errors: exit 2 -----------------------------------------------------------------------
expect 2 "no command given" "$BIN"
expect 2 "unknown command 'bogus'" "$BIN" bogus
expect 2 "crl does not take --uid" "$BIN" --dir "$D" crl --uid
expect 2 "--days goes after the command" "$BIN" --days 3 crl
expect 2 "--days '0'" "$BIN" --dir "$D" crl --days 0
expect 2 "--bits goes with --key-type rsa" "$BIN" --dir "$tmp/x" init-ca --bits 4096
expect 2 "--key-type 'dsa'" "$BIN" --dir "$tmp/x" init-ca --key-type dsa
expect 2 "neither an IP address nor a DNS name" "$BIN" --dir "$D" server 'bad name'
expect 2 "too few arguments" "$BIN" --dir "$D" server
expect 2 "too many arguments" "$BIN" --dir "$D" client a b
expect 2 "common name" "$BIN" --dir "$tmp/x" init-ca --cn ' padded'
[ -e "$tmp/x" ] && fail "a usage error made the directory"
"$BIN" --help | grep -q '^Usage: sluice-certs' || fail "--help"
"$BIN" --version | grep -q 'sluice' || fail "--version"

if [ "$failures" != 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all sluice-certs checks passed"
exit 0
