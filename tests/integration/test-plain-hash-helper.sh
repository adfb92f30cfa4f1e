#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# With plain auth, sec hands each password hash to an auth helper and goes on serving:
# while one user's deliberately expensive hash (SHA-512 crypt, 12,000,000 rounds: seconds
# of CPU) is computed, another user logs in from start to finish. The proof is the order
# of events in sluiced's log, not a time limit: alice's login starts only once slow's
# hash is in a helper's hands, and alice is accepted before slow is. A sec that hashed in
# its own loop could not answer alice (her TLS handshake needs sec's signature, her
# password sec's check) until slow's hash was done. The helper that computes it runs as
# run-as-user under its seccomp filter, and slow's login passes in the end.
. "$(dirname "$0")/lib.sh"
it_init
require_sluiced

make_certs
add_user alice alice-pw
# Precomputed (perl -e 'print crypt("slow-pw", q($6$rounds=12000000$sluiceslowhash01$))'),
# after alice's line: the first hash of the file is the dummy one for unknown users.
SLOW_HASH='$6$rounds=12000000$sluiceslowhash01$ARH8l7gZCyebrAwKYI35/U.MC6SESl.LZPeOs1Dhzgp7ts5gJY0imb.KlYBS73BQJ.7fkbtzqhogXrQYt79///'
printf 'slow:*:%s\n' "$SLOW_HASH" >>"$PASSWD_FILE"
write_config "auth-helper-timeout = 25"
start_server

# slow's login, in the background; its cookie (or nothing) lands in a file.
(
	out=$(ip netns exec "$NS_C1" timeout 60 openconnect --authenticate --non-inter \
		--passwd-on-stdin --user slow --servercert "$PIN" "$(server_url_for "$NS_C1")" \
		<<<slow-pw 2>>"$WORK/slow.log")
	sed -n "s/^COOKIE='\(.*\)'\$/\1/p" <<<"$out" >"$WORK/slow.cookie"
) &
SLOW_PID=$!
on_cleanup "stop_pid $SLOW_PID"

server_log_has "password of slow to auth helper [0-9]+" 20 ||
	fail "slow's password never went to an auth helper"
helper=$(grep -Eo "password of slow to auth helper [0-9]+" "$SERVER_LOG" | tail -1 |
	awk '{print $NF}')
log "slow's hash is with auth helper $helper"

# The helper: not root, run-as-user's uid, under a seccomp filter.
[ -r "/proc/$helper/status" ] || fail "auth helper $helper is gone before its hash is done"
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$helper/status")
nobody=$(id -u nobody)
[ "$uid" = "$nobody $nobody $nobody $nobody" ] ||
	fail "auth helper $helper runs as uid '$uid', not nobody ($nobody)"
grep -Eq '^Seccomp:[[:space:]]+2' "/proc/$helper/status" ||
	fail "auth helper $helper has no seccomp filter"
log "auth helper $helper runs as uid $nobody with a seccomp filter"

# While that hash is computed: alice, from the other client namespace.
grep -q "auth ok: user=slow" "$SERVER_LOG" && fail "slow accepted before alice even started"
cookie=$(get_cookie "$NS_C2" alice alice-pw) || fail "alice's login failed"
[ -n "$cookie" ] || fail "no cookie for alice"
server_log_has "auth ok: user=alice client=$CLI_IP2" 5 || fail "no 'auth ok' line for alice"
grep -q "auth ok: user=slow" "$SERVER_LOG" &&
	fail "slow was accepted before alice: sec waited for slow's hash"
log "alice logged in while slow's hash was still being computed"

# slow's login passes once its hash is done.
for _ in $(seq 1 600); do
	kill -0 "$SLOW_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$SLOW_PID" 2>/dev/null && fail "slow's login still runs after 60 s"
[ -s "$WORK/slow.cookie" ] || fail "slow's login failed: $(tail -3 "$WORK/slow.log")"
server_log_has "auth ok: user=slow" 5 || fail "no 'auth ok' line for slow"
a=$(grep -n "auth ok: user=alice" "$SERVER_LOG" | head -1 | cut -d: -f1)
s=$(grep -n "auth ok: user=slow" "$SERVER_LOG" | head -1 | cut -d: -f1)
[ "$a" -lt "$s" ] || fail "log order: alice at line $a, slow at line $s"
log "order in the log: slow's hash to a helper, alice accepted (line $a), slow accepted (line $s)"

# A wrong password of slow is refused by the same helpers.
ip netns exec "$NS_C1" timeout 60 openconnect --authenticate --non-inter --passwd-on-stdin \
	--user slow --servercert "$PIN" "$(server_url_for "$NS_C1")" <<<wrong-pw \
	>/dev/null 2>>"$WORK/slow.log" && fail "slow's wrong password accepted"
server_log_has "auth failed: user=slow client=$CLI_IP1:[0-9]+ reason=wrong password" 10 ||
	fail "no 'wrong password' line for slow"
pass
