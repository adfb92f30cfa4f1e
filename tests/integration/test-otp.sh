#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# One-time passwords as a second factor: auth = "plain[passwd=FILE,otp=FILE]" with an
# oath-toolkit users file, as ocserv reads it, and openconnect 9.01:
# - TOTP: --token-mode=totp answers the second form (secondary_password) itself;
#   sluicectl and the audit file say password+otp;
# - a wrong code is refused, and is a failed login (audit file, ban points);
# - a code typed by hand (fed on stdin) passes once; the same code again is refused, also
#   after sluiced restarts (the used time step is in the file);
# - HOTP: --token-mode=hotp logs in, and the counter in the file advances with each
#   login; a used HOTP code is refused;
# - a user without a token is refused after the password;
# - a bad line of the file is named by file and line by sluiced -t and in the log, and
#   survives the rewrite of the file;
# - auth = certificate beside it: certificate, password and code (certificate+password+otp);
# - the file is replaced by sec's OTP helper under its seccomp filter, and sec's own
#   filter is unchanged in what matters: sec still cannot write a file.
. "$(dirname "$0")/lib.sh"
require_sluiced
it_init
require_cmd oathtool
require_cmd jq
require_ctl
make_certs
add_user alice alice-pw
add_user bob bob-pw
add_user carol carol-pw
add_user dave dave-pw
OTP=$WORK/otp
AUDIT=$WORK/audit.json
KEY_A=3132333435363738393031323334353637383930
KEY_B=a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9
KEY_C=00112233445566778899aabbccddeeff00112233
cat >"$OTP" <<EOF
# sluice test tokens
HOTP/T30 alice - $KEY_A
HOTP bob - $KEY_B 0
HOTP/T30/6	carol	-	$KEY_C
HOTP/T45 eve - $KEY_C
EOF
chmod 600 "$OTP"
# ban-reset-time at its longest: 1000 points drain over a week, so that the scores
# the test compares do not move while it runs.
write_config "auth = \"plain[passwd=$PASSWD_FILE,otp=$OTP]\"
audit-log = $AUDIT
max-ban-score = 1000
ban-reset-time = 604800
ban-points-wrong-password = 10
ban-points-connection = 0"

# sluiced -t names the bad line (the fourth of the file's tokens, line 5).
if out=$("$(server_bin)" -t -c "$SERVER_CONF" 2>&1); then
	fail "sluiced -t accepted an OTP file with a bad line: $out"
fi
grep -q "^$OTP:5: unknown token type" <<<"$out" || fail "sluiced -t did not name $OTP:5: $out"
log "sluiced -t: $out"
start_server
server_log_has "OTP file: $OTP:5: unknown token type" 5 || fail "no start-up warning for $OTP:5"
server_log_has "OTP helper started" 5 || fail "sec started no OTP helper"

# by_hand NAME USER PASSWORD CODE: openconnect --authenticate answering the password form
# and the one-time password form from stdin; 0 and a cookie when both passed.
by_hand()
{
	local name=$1 out
	out=$(printf '%s\n%s\n' "$3" "$4" | ip netns exec "$NS_C1" timeout 30 openconnect \
		--authenticate --passwd-on-stdin --user "$2" --servercert "$PIN" \
		"$(server_url_for "$NS_C1")" 2>"$WORK/hand-$name.log") || return 1
	grep -q "^COOKIE=" <<<"$out"
}

# TOTP with the client's own token support.
start_client t1 "$NS_C1" alice alice-pw --token-mode=totp --token-secret="0x$KEY_A"
ip=$(wait_tunnel t1 20) || fail "alice's TOTP login gave no tunnel"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip")" 2) || fail "no traffic: $out"
grep -q "Generating OATH TOTP token code" "${CLIENT_LOG[t1]}" ||
	fail "the client did not generate the code itself"
json=$(ctl --json show user alice) || fail "sluicectl show user alice failed"
[ "$(jq -r '.[0].Authentication' <<<"$json")" = password+otp ] ||
	fail "Authentication is not password+otp: $json"
log "alice logged in with her password and a TOTP code: $ip"
stop_client t1 INT
wait_output 10 grep -F '"auth":"password+otp"' "$AUDIT" >/dev/null ||
	fail "the audit session record does not say password+otp"
grep -Pq "^HOTP/T30\talice\t-\t$KEY_A\t[0-9]{8,}\t[0-9]{6}\t[0-9-]{10}T[0-9:]{8}L$" "$OTP" ||
	fail "alice's line does not record the used step: $(grep alice "$OTP")"

# ban_score: the client's ban points (0 when it has none).
ban_score()
{
	ctl --json show ip ban points | jq -r --arg ip "$CLI_IP1" \
		'[.[] | select(.IP == $ip) | .Score] | first // 0'
}

# A wrong code: the right password, then carol's code for alice.
[ "$(ban_score)" = 0 ] || fail "ban points before any failed login: $(ban_score)"
wrong=$(oathtool --totp "$KEY_C")
[ "$wrong" != "$(oathtool --totp "$KEY_A")" ] || wrong=000000
by_hand w1 alice alice-pw "$wrong" && fail "a wrong code logged alice in"
server_log_has "one-time password of alice refused: wrong one-time password" 5 ||
	fail "no log of the wrong code"
grep -q '"reason":"wrong one-time password"' "$AUDIT" || fail "the audit file has no failed login"
[ "$(ban_score)" -ge 10 ] || fail "the wrong code scored no ban points: $(ban_score)"
log "a wrong code is refused, audited and scores $(ban_score) ban points"

# A code typed by hand passes once; a replay is refused, also after a restart.
code=$(oathtool --totp "$KEY_C")
by_hand r1 carol carol-pw "$code" || fail "carol's code did not pass: $(tail -n 5 "$WORK/hand-r1.log")"
by_hand r2 carol carol-pw "$code" && fail "carol's code passed twice"
server_log_has "one-time password of carol refused: one-time password already used" 5 ||
	fail "no log of the replayed code"
stop_server
start_server
by_hand r3 carol carol-pw "$code" && fail "carol's code passed again after a restart"
[ "$(grep -c "one-time password of carol refused: one-time password already used" "$SERVER_LOG")" -ge 2 ] ||
	fail "the replay after the restart was not refused as a replay"
log "a used TOTP code is refused, also after a restart"

# HOTP: the counter in the file advances with each login.
start_client h1 "$NS_C1" bob bob-pw --token-mode=hotp --token-secret="0x$KEY_B,0"
wait_tunnel h1 20 >/dev/null || fail "bob's HOTP login (counter 0) gave no tunnel"
stop_client h1 INT
grep -Pq "^HOTP\tbob\t-\t$KEY_B\t0\t$(oathtool --hotp -c 0 "$KEY_B")\t" "$OTP" ||
	fail "bob's line does not record counter 0: $(grep bob "$OTP")"
start_client h2 "$NS_C1" bob bob-pw --token-mode=hotp --token-secret="0x$KEY_B,1"
wait_tunnel h2 20 >/dev/null || fail "bob's HOTP login (counter 1) gave no tunnel"
stop_client h2 INT
grep -Pq "^HOTP\tbob\t-\t$KEY_B\t1\t$(oathtool --hotp -c 1 "$KEY_B")\t" "$OTP" ||
	fail "bob's counter did not advance to 1: $(grep bob "$OTP")"
by_hand h3 bob bob-pw "$(oathtool --hotp -c 1 "$KEY_B")" && fail "bob's used HOTP code passed again"
log "HOTP: the counter advances (0, then 1) and a used code is refused"

# No token: the password alone is not enough.
by_hand d1 dave dave-pw 123456 && fail "dave logged in without a token"
server_log_has "one-time password of dave refused: no OTP token for this user" 5 ||
	fail "no log of the user without a token"

# The bad line is named at each code and kept as it was by the rewrites.
server_log_has "OTP file: $OTP:5: unknown token type" 5 || fail "no log of $OTP:5 at a login"
grep -qx "HOTP/T45 eve - $KEY_C" "$OTP" || fail "the rewrite lost the bad line"
grep -qx "# sluice test tokens" "$OTP" || fail "the rewrite lost the comment"
[ "$(stat -c %a "$OTP")" = 600 ] || fail "the rewrite changed the file's mode"
ls "$WORK" | grep -q 'otp\.sluice-' && fail "a temporary file was left behind"

# A certificate, its user's password and a one-time password: all three.
KEY_F=f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3
add_user frank frank-pw
make_client_cert frank frank
stop_server
printf 'HOTP/T30 frank - %s\n' "$KEY_F" >>"$OTP"
write_config "auth = \"plain[passwd=$PASSWD_FILE,otp=$OTP]\"
auth = certificate
ca-cert = $WORK/pki/ca.pem
cert-user-oid = 2.5.4.3"
start_server
start_client f1 "$NS_C1" frank frank-pw -c "$WORK/pki/frank.pem" -k "$WORK/pki/frank.key" \
	--token-mode=totp --token-secret="0x$KEY_F"
wait_tunnel f1 20 >/dev/null || fail "frank's certificate, password and TOTP code gave no tunnel"
[ "$(ctl --json show user frank | jq -r '.[0].Authentication')" = certificate+password+otp ] ||
	fail "frank's login is not certificate+password+otp"
stop_client f1 INT
log "certificate, password and one-time password: certificate+password+otp"
pass
