#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluiced only: the management API (manage-listen) with curl from a client namespace,
# a real openconnect session and the grants of manage-access, written by sluice-access.
# Every endpoint with the read and the admin role; 401 without credentials, with a wrong
# token or an ungranted certificate (and no call to main); 403 for a read caller that
# tries to change something; 405, 404, 415, 400 and 413 for bad requests; client
# certificates from manage-ca by common name; the event stream shows a real client's
# connect and disconnect; a disconnect through the API ends the real session and is in
# the audit log with the caller's grant; a reload that changes the grants restarts
# sluice-manage, which runs unprivileged and is restarted when killed; too many failed
# logins from one address get 429; sluiced -t refuses manage-key = server-key and a
# grants file others can read.
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd curl jq certtool
it_init
require_ctl
make_certs
add_user alice alice-pw
add_user bob bob-pw

. "$(dirname "$0")/manage.sh"
d=$MPKI
# Client certificates: two granted, one not, and one from a CA the server does not know.
make_ca other-ca
make_client admin-ca c-admin "Ops Admin"
make_client admin-ca c-viewer "viewer"
make_client admin-ca c-stranger "stranger"
make_client other-ca c-forged "Ops Admin"

"$ACCESS_TOOL" -f "$ACCESS" cert "Ops Admin" admin || fail "sluice-access cert failed"
"$ACCESS_TOOL" -f "$ACCESS" cert viewer read || fail "sluice-access cert failed"
[[ $ADMIN_TOKEN =~ ^slm_[0-9a-f]{64}$ ]] || fail "odd token: $ADMIN_TOKEN"
grep -q "$ADMIN_TOKEN" "$ACCESS" && fail "the grants file holds a token in clear"
[ "$(stat -c %a "$ACCESS")" = 600 ] || fail "grants file mode $(stat -c %a "$ACCESS")"
"$ACCESS_TOOL" -f "$ACCESS" list | grep -Eq '^cert +admin +Ops Admin$' || fail "list: $("$ACCESS_TOOL" -f "$ACCESS" list)"
sum=$(sha256sum "$ACCESS")
"$ACCESS_TOOL" -f "$ACCESS" token 'bad name' read 2>/dev/null; [ $? = 2 ] || fail "sluice-access took 'bad name'"
"$ACCESS_TOOL" -f "$ACCESS" token x root 2>/dev/null; [ $? = 2 ] || fail "sluice-access took the role root"
"$ACCESS_TOOL" -f "$ACCESS" remove nobody 2>/dev/null; [ $? = 1 ] || fail "sluice-access removed nobody"
[ "$(sha256sum "$ACCESS")" = "$sum" ] || fail "a refused sluice-access command changed the file"

# sluiced -t: the API may not take the VPN's key, nor a grants file others can read.
write_config "${MANAGE_CONF/manage-key = $d\/manage.key/manage-key = $SERVER_KEY}"
"$(server_bin)" -t -c "$SERVER_CONF" >"$WORK/t1.out" 2>&1 && fail "sluiced -t took manage-key = server-key"
grep -q "manage-key must not be server-key" "$WORK/t1.out" || fail "-t: $(cat "$WORK/t1.out")"
write_config "$MANAGE_CONF"
chmod 640 "$ACCESS"
"$(server_bin)" -t -c "$SERVER_CONF" >"$WORK/t2.out" 2>&1 && fail "sluiced -t took a grants file of mode 640"
grep -q "manage-access.*not readable or writable by group or others" "$WORK/t2.out" || fail "-t: $(cat "$WORK/t2.out")"
chmod 600 "$ACCESS"
"$(server_bin)" -t -c "$SERVER_CONF" >"$WORK/t3.out" 2>&1 || fail "sluiced -t: $(cat "$WORK/t3.out")"
log "sluiced -t refuses manage-key = server-key and a group-readable grants file"

start_server
manage_wait
uid=$(awk '/^Uid:/ {print $2}' "/proc/$MPID/status")
[ "$uid" = "$(id -u nobody)" ] || fail "sluice-manage runs as uid $uid"
grep -Eq '^Seccomp:[[:space:]]+2$' "/proc/$MPID/status" || fail "sluice-manage has no seccomp filter"
grep -Eq '^NoNewPrivs:[[:space:]]+1$' "/proc/$MPID/status" || fail "sluice-manage lacks no-new-privs"

# api METHOD PATH [curl options...]: prints the body; HTTP status in $WORK/status.
api()
{
	local method=$1 path=$2
	shift 2
	ip netns exec "$NS_C1" curl -sS -o "$WORK/body" -w '%{http_code}' --max-time 10 \
		--cacert "$CA_CERT" -X "$method" "$@" "$API$path" >"$WORK/status" 2>"$WORK/curl.err"
	cat "$WORK/body"
}
status() { cat "$WORK/status"; }
expect() # STATUS WHAT
{
	[ "$(status)" = "$1" ] || fail "$2: HTTP $(status), expected $1: $(cat "$WORK/body") $(cat "$WORK/curl.err")"
}
admin=(-H "Authorization: Bearer $ADMIN_TOKEN")
reader=(-H "Authorization: Bearer $READ_TOKEN")
json=(-H "Content-Type: application/json")

start_client a "$NS_C1" alice alice-pw
ip_a=$(wait_tunnel a 15) || fail "alice: no tunnel"
out=$(ping_through "$NS_C1" "$(server_tun_ip "$ip_a")" 2) || fail "no traffic: $out"

# 401: nothing, a wrong token, a token of the wrong form, basic auth, an ungranted or
# foreign certificate. None reaches main.
api GET /api/status >/dev/null
expect 401 "no credentials"
grep -qi '^www-authenticate: Bearer' <(ip netns exec "$NS_C1" curl -sS -D - -o /dev/null --cacert "$CA_CERT" "$API/api/status") ||
	fail "401 without WWW-Authenticate: Bearer"
api GET /api/status -H "Authorization: Bearer slm_$(printf '0%.0s' $(seq 1 64))" >/dev/null
expect 401 "a wrong token"
api GET /api/status -H "Authorization: Bearer ${ADMIN_TOKEN}x" >/dev/null
expect 401 "a token with a byte more"
api GET /api/status -u ops:"$ADMIN_TOKEN" >/dev/null
expect 401 "basic auth"
api GET /api/status --cert "$d/c-stranger.pem" --key "$d/c-stranger.key" >/dev/null
expect 401 "an ungranted certificate"
api GET /api/status --cert "$d/c-forged.pem" --key "$d/c-forged.key" >/dev/null
expect 401 "a granted name from another CA"
log "401 for no, wrong and malformed credentials and for ungranted or foreign certificates"

# The read role: every list, as sluicectl --json prints it.
api GET /api/whoami "${reader[@]}" | jq -e '.identity == "token:watch" and .role == "read"' >/dev/null ||
	fail "whoami (read token): $(cat "$WORK/body")"
api GET /api/status "${reader[@]}" >"$WORK/status.json"
expect 200 "status"
jq -e '."Active sessions" == 1 and .Status == "online" and (."Server PID" > 0)' "$WORK/status.json" >/dev/null ||
	fail "status: $(cat "$WORK/status.json")"
ctl --json show status | jq -e --slurpfile api "$WORK/status.json" 'keys == ($api[0] | keys)' >/dev/null ||
	fail "status keys differ from sluicectl --json's"
api GET /api/users "${reader[@]}" >"$WORK/users.json"
expect 200 "users"
jq -e 'length == 1 and .[0].Username == "alice" and .[0].RX > 0 and (.[0].ID > 0)' "$WORK/users.json" >/dev/null ||
	fail "users: $(cat "$WORK/users.json")"
ctl --json show users | jq -e --slurpfile api "$WORK/users.json" '(.[0] | keys) == ($api[0][0] | keys)' >/dev/null ||
	fail "user keys differ from sluicectl --json's"
ID=$(jq -r '.[0].ID' "$WORK/users.json")
api GET "/api/user?name=alice" "${reader[@]}" | jq -e '.[0].Username == "alice"' >/dev/null || fail "user?name=alice: $(cat "$WORK/body")"
api GET "/api/user?name=nobody" "${reader[@]}" >/dev/null
expect 404 "user?name=nobody"
api GET "/api/id?id=$ID" "${reader[@]}" | jq -e ".[0].ID == $ID" >/dev/null || fail "id: $(cat "$WORK/body")"
api GET "/api/id?id=abc" "${reader[@]}" >/dev/null
expect 400 "id=abc"
api GET /api/sessions "${reader[@]}" >"$WORK/sessions.json"
expect 200 "sessions"
jq -e '.[0].Username == "alice"' "$WORK/sessions.json" >/dev/null || fail "sessions: $(cat "$WORK/sessions.json")"
SID=$(jq -r '.[0].Session' "$WORK/sessions.json")
api GET "/api/session?sid=$SID" "${reader[@]}" | jq -e '.[0].Username == "alice"' >/dev/null || fail "session: $(cat "$WORK/body")"
api GET /api/bans "${reader[@]}" | jq -e 'type == "array"' >/dev/null || fail "bans: $(cat "$WORK/body")"
api GET /api/ban-points "${reader[@]}" | jq -e 'type == "array"' >/dev/null || fail "ban-points: $(cat "$WORK/body")"
api GET /api/whoami --cert "$d/c-viewer.pem" --key "$d/c-viewer.key" |
	jq -e '.identity == "cert:viewer" and .role == "read"' >/dev/null || fail "whoami (viewer cert): $(cat "$WORK/body")"
log "read role: status, users, user, id, sessions, session, bans, ban-points, whoami (token and certificate)"

# A read caller changes nothing; bad requests.
api POST /api/disconnect "${reader[@]}" "${json[@]}" -d '{"user":"alice"}' >/dev/null
expect 403 "disconnect with the read role"
api POST /api/reload --cert "$d/c-viewer.pem" --key "$d/c-viewer.key" "${json[@]}" -d '{}' >/dev/null
expect 403 "reload with a read certificate"
api GET /api/disconnect "${admin[@]}" >/dev/null
expect 405 "GET on a POST path"
api DELETE /api/users "${admin[@]}" >/dev/null
expect 405 "DELETE"
api GET /api/nothing "${admin[@]}" >/dev/null
expect 404 "an unknown path"
api POST /api/disconnect "${admin[@]}" -d 'user=alice' >/dev/null
expect 415 "a form body"
api POST /api/disconnect "${admin[@]}" "${json[@]}" -d '{"user":' >/dev/null
expect 400 "broken JSON"
api POST /api/disconnect "${admin[@]}" "${json[@]}" -d '{"user":"alice","x":1}' >/dev/null
expect 400 "an unknown key"
api POST /api/disconnect "${admin[@]}" "${json[@]}" -d '{"user":"alice","id":1}' >/dev/null
expect 400 "user and id"
api POST /api/disconnect "${admin[@]}" "${json[@]}" -d '[1,2]' >/dev/null
expect 400 "an array"
api POST /api/unban "${admin[@]}" "${json[@]}" -d '{"ip":"not-an-address"}' >/dev/null
expect 400 "unban of a bad address"
head -c 5000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
api POST /api/reload "${admin[@]}" "${json[@]}" --data-binary "@$WORK/big.json" >/dev/null
expect 413 "a 5000-byte body"
api POST /api/disconnect "${admin[@]}" "${json[@]}" -d '{"user":"nobody"}' >/dev/null
expect 404 "disconnect of a user with no session"
kill -0 "$SERVER_PID" || fail "sluiced died"
log "403 for a read caller's changes; 405, 404, 415, 400 and 413 for bad requests"

# Events: a stream with the read token sees bob connect, and alice's disconnect
# through the API.
ip netns exec "$NS_C1" curl -sS -N --max-time 60 --cacert "$CA_CERT" "${reader[@]}" "$API/api/events" \
	>"$WORK/events.txt" 2>"$WORK/events.err" &
EVENTS_PID=$!
OWN_PIDS+=("$EVENTS_PID")
sleep 1
start_client b "$NS_C2" bob bob-pw
wait_tunnel b 15 >/dev/null || fail "bob: no tunnel"
for i in $(seq 1 50); do grep -q '"Username": *"bob"' "$WORK/events.txt" && break; sleep 0.1; done
grep -q '^event: connect$' "$WORK/events.txt" || fail "no connect event: $(cat "$WORK/events.txt")"
grep '^data: ' "$WORK/events.txt" | head -1 | cut -c7- | jq -e '.event == "connect" and .Username == "bob"' >/dev/null ||
	fail "connect event: $(cat "$WORK/events.txt")"

# An admin's disconnect ends alice's real session, and the audit log names the caller.
api POST /api/disconnect "${admin[@]}" "${json[@]}" -d '{"user":"alice"}' >"$WORK/disc.json"
expect 200 "disconnect alice"
jq -e '.ok == true and .count == 1' "$WORK/disc.json" >/dev/null || fail "disconnect: $(cat "$WORK/disc.json")"
wait_client_exit a 15
[ $? = 124 ] && fail "alice's client still runs after the API's disconnect"
for i in $(seq 1 50); do grep -q '"event":"disconnect"' <(grep '^data: ' "$WORK/events.txt" | cut -c7- | jq -c '{event}') && break; sleep 0.1; done
grep '^data: ' "$WORK/events.txt" | cut -c7- | jq -e 'select(.event == "disconnect" and .Username == "alice")' >/dev/null ||
	fail "no disconnect event for alice: $(cat "$WORK/events.txt")"
server_log_has "control command from the management API \\(token:ops\\): disconnect user alice \\(done\\)" 5 ||
	fail "no log line with the API caller"
for i in $(seq 1 30); do grep -q '"actor"' "$AUDIT" 2>/dev/null && break; sleep 0.1; done
jq -e -s 'map(select(.event == "control" and .via == "manage" and .actor == "token:ops"
	and (.command | test("disconnect user alice")))) | length == 1' "$AUDIT" >/dev/null ||
	fail "audit log: $(grep control "$AUDIT")"
for i in $(seq 1 30); do
	api GET "/api/history?name=alice" "${reader[@]}" >"$WORK/history.json"
	jq -e '.[0].event == "session-end"' "$WORK/history.json" >/dev/null 2>&1 && break
	sleep 0.2
done
jq -e '.[0].event == "session-end" and .[0].user == "alice" and .[0].bytes_in > 0
	and any(.[]; .event == "session-start") and any(.[]; .event == "auth" and .result == "success")
	and all(.[]; .user == "alice")' "$WORK/history.json" >/dev/null || fail "history of alice: $(cat "$WORK/history.json")"
api GET "/api/history?name=nobody" "${reader[@]}" | jq -e 'length == 0' >/dev/null || fail "history of nobody: $(cat "$WORK/body")"
log "disconnect through the API ended alice's session; events stream, audit log and alice's history show it"

# Accounts of the password file: listed without hashes; a user added through the API
# logs in with the real client, is locked out and let in again, gets new groups and is
# deleted; a read caller changes nothing; the password is in no log.
api GET /api/accounts "${reader[@]}" >"$WORK/accounts.json"
expect 200 "accounts"
jq -e 'map(.Username) | sort == ["alice", "bob"]' "$WORK/accounts.json" >/dev/null || fail "accounts: $(cat "$WORK/accounts.json")"
grep -q '\$' "$WORK/accounts.json" && fail "accounts show a hash"
api POST /api/accounts/set "${reader[@]}" "${json[@]}" -d '{"user":"carol","password":"carol-pw"}' >/dev/null
expect 403 "account change with the read role"
for bad in '{"user":"a:b","password":"x"}' '{"user":"-x","password":"x"}' '{"user":"#c","password":"x"}' \
	'{"user":"carol"}' '{"user":"carol","password":"a\nb"}' '{"user":"carol","password":"x","groups":["a,b"]}' \
	'{"user":"carol","password":"x","groups":"staff"}'; do
	api POST /api/accounts/set "${admin[@]}" "${json[@]}" -d "$bad" >/dev/null
	expect 400 "account set $bad"
done
api POST /api/accounts/set "${admin[@]}" "${json[@]}" -d '{"user":"carol","password":"carol-pw 2","groups":["staff"]}' >"$WORK/set.json"
expect 200 "add carol"
api GET /api/accounts "${admin[@]}" | jq -e '.[] | select(.Username == "carol" and .Groups == ["staff"] and .Locked == false)' >/dev/null ||
	fail "carol not listed: $(cat "$WORK/body")"
start_client c "$NS_C1" carol "carol-pw 2"
wait_tunnel c 15 >/dev/null || fail "carol, added through the API, has no tunnel"
stop_client c
api POST /api/accounts/lock "${admin[@]}" "${json[@]}" -d '{"user":"carol"}' >/dev/null
expect 200 "lock carol"
start_client c2 "$NS_C1" carol "carol-pw 2"
expect_refused c2 "carol, locked through the API"
api POST /api/accounts/unlock "${admin[@]}" "${json[@]}" -d '{"user":"carol"}' >/dev/null
expect 200 "unlock carol"
api POST /api/accounts/groups "${admin[@]}" "${json[@]}" -d '{"user":"carol","groups":["ops","staff"]}' >/dev/null
expect 200 "set carol's groups"
api GET /api/accounts "${admin[@]}" | jq -e '.[] | select(.Username == "carol" and .Groups == ["ops","staff"] and .Locked == false)' >/dev/null ||
	fail "carol's groups: $(cat "$WORK/body")"
start_client c3 "$NS_C1" carol "carol-pw 2"
wait_tunnel c3 15 >/dev/null || fail "carol, unlocked and regrouped, has no tunnel"
stop_client c3
api POST /api/accounts/delete "${admin[@]}" "${json[@]}" -d '{"user":"carol"}' >/dev/null
expect 200 "delete carol"
api POST /api/accounts/delete "${admin[@]}" "${json[@]}" -d '{"user":"carol"}' >/dev/null
expect 404 "delete carol again"
api GET /api/accounts "${admin[@]}" | jq -e 'map(.Username) | index("carol") == null' >/dev/null || fail "carol still listed"
grep -q '^carol:' "$PASSWD_FILE" && fail "carol still in the password file"
for i in $(seq 1 30); do grep -q 'delete carol' "$AUDIT" 2>/dev/null && break; sleep 0.1; done
jq -e -s 'map(select(.event == "control" and .actor == "token:ops" and (.command | startswith("account: "))))
	| map(.command) == ["account: set password of carol to groups staff", "account: lock carol",
	"account: unlock carol", "account: set groups of carol to groups ops,staff", "account: delete carol",
	"account: delete carol"]' "$AUDIT" >/dev/null || fail "audit of account changes: $(grep account "$AUDIT")"
grep -q 'carol-pw' "$SERVER_LOG" "$AUDIT" && fail "the password reached a log"
log "accounts: listed without hashes; added, locked, unlocked, regrouped and deleted through the API, with the real client and the audit log"

# Disconnect by id with the admin certificate; unban; reload.
BID=$(api GET /api/users "${admin[@]}" | jq -r '.[] | select(.Username == "bob") | .ID')
api GET /api/whoami --cert "$d/c-admin.pem" --key "$d/c-admin.key" |
	jq -e '.identity == "cert:Ops Admin" and .role == "admin"' >/dev/null || fail "whoami (admin cert): $(cat "$WORK/body")"
api POST /api/disconnect --cert "$d/c-admin.pem" --key "$d/c-admin.key" "${json[@]}" -d "{\"id\":$BID}" >/dev/null
expect 200 "disconnect by id"
wait_client_exit b 15
[ $? = 124 ] && fail "bob's client still runs after the disconnect by id"
jq -e -s 'map(select(.event == "control" and .actor == "cert:Ops Admin")) | length == 1' "$AUDIT" >/dev/null ||
	fail "audit log lacks the certificate caller: $(grep control "$AUDIT")"
api POST /api/unban "${admin[@]}" "${json[@]}" -d '{"ip":"198.18.9.9"}' >/dev/null
[ "$(status)" = 200 ] || [ "$(status)" = 404 ] || fail "unban: HTTP $(status) $(cat "$WORK/body")"
api POST /api/reload "${admin[@]}" "${json[@]}" -d '{}' | jq -e '.ok' >/dev/null || fail "reload: $(cat "$WORK/body")"
[ "$(manage_pid)" = "$MPID" ] || fail "a reload that changed nothing restarted sluice-manage"
log "disconnect by id (admin certificate), unban and reload"

# A changed grants file: the reload restarts sluice-manage, and the removed token is
# refused.
"$ACCESS_TOOL" -f "$ACCESS" remove watch || fail "sluice-access remove"
api POST /api/reload "${admin[@]}" "${json[@]}" -d '{}' >/dev/null
expect 200 "reload after removing a grant"
for i in $(seq 1 50); do
	NPID=$(manage_pid)
	[ -n "$NPID" ] && [ "$NPID" != "$MPID" ] && break
	sleep 0.1
done
[ -n "$NPID" ] && [ "$NPID" != "$MPID" ] || fail "sluice-manage was not restarted after the grants changed"
for i in $(seq 1 30); do api GET /api/status "${reader[@]}" >/dev/null; [ "$(status)" = 401 ] && break; sleep 0.2; done
expect 401 "the removed token"
api GET /api/status "${admin[@]}" >/dev/null
expect 200 "the admin token after the restart"
log "a reload with changed grants restarted sluice-manage; the removed token is refused"

# A killed sluice-manage is started again; the VPN is untouched meanwhile.
kill -KILL "$NPID"
for i in $(seq 1 100); do
	P=$(manage_pid)
	[ -n "$P" ] && [ "$P" != "$NPID" ] && break
	sleep 0.1
done
[ -n "$P" ] && [ "$P" != "$NPID" ] || fail "sluice-manage not restarted after SIGKILL"
for i in $(seq 1 30); do api GET /api/status "${admin[@]}" >/dev/null; [ "$(status)" = 200 ] && break; sleep 0.2; done
expect 200 "the API after its restart"
log "a killed sluice-manage is restarted"

# A request that trickles in (a header line every 3 s, so never idle) is cut off, while
# others are answered.
cat >"$WORK/drip.py" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[3])
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2]))), server_hostname=sys.argv[1])
start = time.time()
s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n")
s.settimeout(3)
while time.time() - start < 60:
    try:
        s.sendall(b"X-Slow: 1\r\n")
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except (OSError, ssl.SSLError):
        break
print(int(time.time() - start))
PY
ip netns exec "$NS_C1" python3 "$WORK/drip.py" "$SRV_IP1" "$MPORT" "$CA_CERT" >"$WORK/drip.out" 2>&1 &
DRIP=$!
sleep 2
api GET /api/status "${admin[@]}" >/dev/null
expect 200 "a request beside a slow one"
wait "$DRIP"
secs=$(cat "$WORK/drip.out")
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -ge 14 ] && [ "$secs" -le 25 ] ||
	fail "a trickling request was cut after '$secs' s, expected 15"
server_log_has "sent no complete request in 15 s; cut off" 2 || fail "no log line for the cut-off"
log "a request trickling in was cut off after $secs s; others were answered meanwhile"

# Too many failed logins from one address: 429 for a while, even with a good token.
for i in $(seq 1 10); do
	ip netns exec "$NS_C2" curl -s -o /dev/null --cacert "$CA_CERT" -H "Authorization: Bearer nope" \
		"https://$SRV_IP2:$MPORT/api/status" || true
done
code=$(ip netns exec "$NS_C2" curl -s -o /dev/null -w '%{http_code}' --cacert "$CA_CERT" "${admin[@]}" \
	"https://$SRV_IP2:$MPORT/api/status")
[ "$code" = 429 ] || fail "after 10 failed logins: HTTP $code, expected 429"
api GET /api/status "${admin[@]}" >/dev/null
expect 200 "another address, not limited"
log "10 failed logins from one address: 429 for it, others unaffected"
grep -q "sluice-manage (pid [0-9]*) killed by signal 31" "$SERVER_LOG" && fail "sluice-manage hit its seccomp filter"
pass
