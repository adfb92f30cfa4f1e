#!/bin/bash
# The private key lives only in sec: a live worker's memory does not contain the key's
# secret scalar, the key file's text or the password file's hash, while the same scan of
# sec's memory does find the scalar (so the scan itself works).
TEST_NAME=test-key-isolation
. "$(dirname "$0")/lib.sh"
require_sluiced
require_cmd od
it_init
setup_server

start_client a "$NS_C1" alice alice-pw
wait_tunnel a 20 >/dev/null || fail "tunnel did not come up"
worker=$(session_worker alice) || fail "no session start line for alice"
# sec is the child that runs sluiced's own program (workers and the template run
# sluice-worker).
sec=""
for p in $(pgrep -P "$SERVER_PID"); do
	[ "$(readlink /proc/$p/exe)" = "$(readlink /proc/$SERVER_PID/exe)" ] && sec=$p
done
[ -n "$sec" ] || fail "cannot find the sec process"
template=""
for p in $(pgrep -P "$SERVER_PID"); do
	[ "$(tr -d '\0' </proc/$p/cmdline)" = sluice-worker--template ] && template=$p
done

# The ECDSA secret scalar, big-endian hex as certtool prints it, without a sign byte;
# big-number libraries keep it little-endian, so the reversed bytes are searched too.
scalar=$(certtool -k --infile "$SERVER_KEY" 2>/dev/null |
	awk '/^private key:/ { on = 1; next } on && /^[a-z]/ { exit } on { printf "%s", $0 }' |
	tr -d ' \t:')
scalar=${scalar#00}
[ ${#scalar} = 64 ] || fail "cannot read the key's scalar (got '${scalar}')"
reversed=$(echo "$scalar" | fold -w2 | tac | tr -d '\n')
pem_text=$(grep -v -- '-----' "$SERVER_KEY" | head -1 | tr -d '\n' | od -An -tx1 -v | tr -d ' \n')
hash_text=$(cut -d: -f3 "$PASSWD_FILE" | head -1 | tr -d '\n' | od -An -tx1 -v | tr -d ' \n')

# Dumps every readable mapping of a process as one hex string. In a --enable-sanitizers
# build not ASan's shadow memory (on x86_64 from 0x7fff8000 to 0x10007fff8000): terabytes
# that describe which bytes of the process may be used, never what they hold.
memory_hex()
{
	local pid=$1 range perms start end shadow_lo=0 shadow_hi=0
	if sanitizer_build; then
		shadow_lo=$((0x7fff8000)) shadow_hi=$((0x10007fff8000))
	fi
	while read -r range perms _ _ _ name; do
		[[ $perms == r* ]] || continue
		[[ ${name:-} == "[vvar]" || ${name:-} == "[vsyscall]" ]] && continue
		start=$((16#${range%-*}))
		end=$((16#${range#*-}))
		((start >= shadow_lo && end <= shadow_hi)) && continue
		dd if=/proc/$pid/mem bs=64K iflag=skip_bytes,count_bytes skip=$start \
			count=$((end - start)) 2>/dev/null
	done </proc/$pid/maps | od -An -tx1 -v | tr -d ' \n'
}

whex=$WORK/worker.hex
shex=$WORK/sec.hex
memory_hex "$worker" >"$whex"
memory_hex "$sec" >"$shex"
[ -s "$whex" ] || fail "could not read the worker's memory"
log "scanned $(($(stat -c %s "$whex") / 2)) bytes of worker $worker, $(($(stat -c %s "$shex") / 2)) of sec $sec"

grep -q -e "$scalar" -e "$reversed" "$shex" || fail "the scan does not find the key in sec: scan broken"
grep -q -e "$scalar" -e "$reversed" "$whex" && fail "the worker's memory holds the private key"
grep -q "$pem_text" "$whex" && fail "the worker's memory holds the key file's text"
grep -q "$hash_text" "$whex" && fail "the worker's memory holds a password hash"
# The template forks every worker: it must hold no secret either.
if [ -n "$template" ]; then
	thex=$WORK/template.hex
	memory_hex "$template" >"$thex"
	grep -q -e "$scalar" -e "$reversed" -e "$pem_text" -e "$hash_text" "$thex" &&
		fail "the worker template's memory holds key or password material"
	log "worker template $template scanned: clean"
fi
pass "key found in sec, not in the worker"
