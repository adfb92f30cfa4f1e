# shellcheck shell=bash
# The management API's set-up, for the tests that use it (sourced after lib.sh, once
# make_certs has run): the API's own certificate and key from the test CA (for both
# server addresses), a CA for administrators' client certificates, and a grants file
# with an admin and a read token (ADMIN_TOKEN, READ_TOKEN) made by sluice-access.
# MANAGE_CONF holds the configuration lines; manage_wait waits for sluice-manage and
# sets MPID.

ACCESS=$WORK/manage-access
ACCESS_TOOL=$(dirname "$(server_bin)")/sluice-access
[ -x "$ACCESS_TOOL" ] || fail "no sluice-access beside $(server_bin)"
MPORT=9443
API=https://$SRV_IP1:$MPORT
AUDIT=$WORK/audit.log
MPKI=$WORK/pki

printf 'cn = "sluice manage"\nip_address = "%s"\nip_address = "%s"\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n' \
	"$SRV_IP1" "$SRV_IP2" >"$MPKI/manage.tmpl"
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$MPKI/manage.key" >/dev/null 2>&1 &&
	certtool --generate-certificate --load-privkey "$MPKI/manage.key" --load-ca-certificate "$CA_CERT" \
		--load-ca-privkey "$MPKI/ca.key" --template "$MPKI/manage.tmpl" --outfile "$MPKI/manage.pem" >/dev/null 2>&1 ||
	fail "cannot make the API's certificate"

make_ca() # NAME
{
	printf 'cn = "%s"\nca\ncert_signing_key\nexpiration_days = 2\n' "$1" >"$MPKI/$1.tmpl"
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$MPKI/$1.key" >/dev/null 2>&1 &&
		certtool --generate-self-signed --load-privkey "$MPKI/$1.key" --template "$MPKI/$1.tmpl" \
			--outfile "$MPKI/$1.pem" >/dev/null 2>&1 || fail "cannot make CA $1"
}
make_client() # CA FILE CN
{
	printf 'cn = "%s"\ntls_www_client\nsigning_key\nexpiration_days = 2\n' "$3" >"$MPKI/$2.tmpl"
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$MPKI/$2.key" >/dev/null 2>&1 &&
		certtool --generate-certificate --load-privkey "$MPKI/$2.key" --load-ca-certificate "$MPKI/$1.pem" \
			--load-ca-privkey "$MPKI/$1.key" --template "$MPKI/$2.tmpl" --outfile "$MPKI/$2.pem" >/dev/null 2>&1 ||
		fail "cannot make client certificate $3"
}
make_ca admin-ca

ADMIN_TOKEN=$("$ACCESS_TOOL" -f "$ACCESS" token ops admin 2>/dev/null) || fail "sluice-access token ops failed"
READ_TOKEN=$("$ACCESS_TOOL" -f "$ACCESS" token watch read 2>/dev/null) || fail "sluice-access token watch failed"

MANAGE_CONF="manage-listen = 0.0.0.0:$MPORT
manage-cert = $MPKI/manage.pem
manage-key = $MPKI/manage.key
manage-ca = $MPKI/admin-ca.pem
manage-access = $ACCESS
audit-log = $AUDIT"

manage_pid() { pgrep -P "$SERVER_PID" -x sluice-manage; }

# After start_server: sluice-manage is running and its port listens.
manage_wait()
{
	local i
	for i in $(seq 1 50); do
		ip netns exec "$NS_SRV" ss -Hltn "sport = :$MPORT" | grep -q LISTEN && break
		sleep 0.1
	done
	for i in $(seq 1 50); do [ -n "$(manage_pid)" ] && break; sleep 0.1; done
	MPID=$(manage_pid)
	[ -n "$MPID" ] || fail "no sluice-manage child of sluiced"
}
