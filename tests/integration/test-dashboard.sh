#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the web dashboard in Debian's headless Chromium (driven over the
# DevTools protocol by dashboard-drive.py), from a client namespace, against two real
# openconnect sessions. The page asks for a token, signs in, lists alice and a user
# whose name is HTML, shows alice's byte counts growing while she pings, shows the
# HTML name as text without running it, fits a phone's width, shows alice's history
# from the audit log, and disconnects alice after a confirmation: her openconnect
# exits and the audit log names the page's token. Its account form adds a user with a
# group and his button locks him, both confirmed, in the password file and audited. Screenshots are kept in
# tests/integration/artefacts/.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd curl jq certtool chromium python3
it_init
make_certs
add_user alice alice-pw
XSS_USER='<img src=x onerror=window.__xss=1>'
add_user "$XSS_USER" mallory-pw
. "$(dirname "$0")/manage.sh"

ARTEFACTS=${top_builddir:-.}/tests/integration/artefacts
mkdir -p "$ARTEFACTS" "$WORK/browser"
write_config "$MANAGE_CONF"
start_server
manage_wait

start_client a "$NS_C1" alice alice-pw
ip_a=$(wait_tunnel a 15) || fail "alice: no tunnel"
start_client x "$NS_C2" "$XSS_USER" mallory-pw
wait_tunnel x 15 >/dev/null || fail "the HTML-named user: no tunnel"
# alice keeps sending while the page watches: about 60 KB a second.
ip netns exec "$NS_C1" ping -q -i 0.02 -s 1200 -w 120 "$(server_tun_ip "$ip_a")" >/dev/null 2>&1 &
OWN_PIDS+=("$!")

# The browser trusts the API's key by its SPKI hash, as a pinned client would.
SPKI=$(compute_pin "$MPKI/manage.pem")
SPKI=${SPKI#pin-sha256:}
chmod 755 "$WORK/browser"
ip netns exec "$NS_C1" timeout 180 python3 "$(dirname "$0")/dashboard-drive.py" "$API/" "$ADMIN_TOKEN" \
	"$SPKI" "$WORK/browser" "$XSS_USER" >"$WORK/drive.out" 2>&1
rc=$?
sed 's/^/  /' "$WORK/drive.out"
cp "$WORK/browser/"*.png "$ARTEFACTS/" 2>/dev/null
[ $rc = 0 ] || fail "the browser run failed (exit $rc); chromium's log: $(tail -5 "$WORK/browser/chromium.log")"
for f in dashboard.png dashboard-phone.png; do
	[ -s "$ARTEFACTS/$f" ] || fail "no screenshot $f"
	[ "$(head -c 8 "$ARTEFACTS/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$f is not a PNG"
done
log "screenshots: $ARTEFACTS/dashboard.png, $ARTEFACTS/dashboard-phone.png"

wait_client_exit a 15
[ $? = 124 ] && fail "alice's openconnect still runs after the page's disconnect"
kill -0 "${CLIENT_PID[x]}" 2>/dev/null || fail "the other user's session ended too"
for i in $(seq 1 30); do grep -q '"actor"' "$AUDIT" 2>/dev/null && break; sleep 0.1; done
jq -e -s 'map(select(.event == "control" and .actor == "token:ops" and (.command | test("^disconnect id ")))) | length == 1' \
	"$AUDIT" >/dev/null || fail "the audit log lacks the page's disconnect: $(grep control "$AUDIT")"
log "the page's disconnect ended alice's real session, and the audit log names its token"
grep -q '^dave:staff:!\$' "$PASSWD_FILE" || fail "the page's account changes are not in the file: $(grep dave "$PASSWD_FILE")"
jq -e -s 'map(select(.event == "control" and .actor == "token:ops" and (.command | startswith("account: "))) | .command)
	== ["account: set password of dave to groups staff", "account: lock dave"]' "$AUDIT" >/dev/null ||
	fail "the audit log lacks the page's account changes: $(grep account "$AUDIT")"
log "the page added dave to group staff and locked him: in the password file and the audit log"
pass
