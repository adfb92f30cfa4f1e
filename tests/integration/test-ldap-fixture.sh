#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# The slapd of ldap.sh, checked with ldap-utils alone (no sluiced): users bind with their
# passwords over ldaps:// and StartTLS with the test CA verified, a wrong password and
# a foreign CA are refused; the service account finds users and their groups three ways
# but never a password hash, and anonymous finds nothing; LDAP_ENABLED_FILTER leaves the
# disabled account out; escaped filter metacharacters match only themselves; ldap_add
# adds entries at run time (memberOf follows); ldap_stop stops slapd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ldap.sh"
it_init
require_cmd slapd slapadd slappasswd ldapsearch ldapwhoami ldapadd
make_certs
ldap_start

# whoami URI DN PASSWORD [OPTIONS...]: ldapwhoami's output for a simple bind.
whoami()
{
	local uri=$1 dn=$2 pw=$3
	shift 3
	ldap_run ldapwhoami -x -H "$uri" -D "$dn" -w "$pw" "$@" 2>&1
}

# dns FILTER: the DNs the service account's search finds, one a line.
dns() { ldap_search "$1" dn | sed -n 's/^dn: //p'; }

ALICE=uid=alice,$LDAP_PEOPLE

# Binds over TLS, the server certificate verified against the test CA.
out=$(whoami "$LDAPS_URI" "$ALICE" alice-pw) || fail "alice cannot bind over ldaps://: $out"
[ "$out" = "dn:$ALICE" ] || fail "ldaps:// bind is not alice: $out"
out=$(whoami "$LDAP_URI" "$ALICE" alice-pw -ZZ) || fail "alice cannot bind with StartTLS: $out"
[ "$out" = "dn:$ALICE" ] || fail "StartTLS bind is not alice: $out"
log "alice binds over ldaps:// and StartTLS (CA verified)"

out=$(whoami "$LDAPS_URI" "$ALICE" wrong-pw)
rc=$?
[ $rc = 49 ] || fail "a wrong password gives $rc, not 49 (invalid credentials): $out"
out=$(whoami "$LDAPS_URI" "$ALICE" bob-pw)
[ $? = 49 ] || fail "alice binds with bob's password: $out"
log "a wrong password: $out"

# A foreign CA: neither ldaps:// nor StartTLS gets as far as the bind.
make_other_ca other
out=$(LDAP_TRUST=$WORK/pki/other.pem whoami "$LDAPS_URI" "$ALICE" alice-pw) &&
	fail "ldaps:// accepted with a foreign CA: $out"
log "ldaps:// with a foreign CA: $(tail -n 1 <<<"$out")"
out=$(LDAP_TRUST=$WORK/pki/other.pem whoami "$LDAP_URI" "$ALICE" alice-pw -ZZ) &&
	fail "StartTLS accepted with a foreign CA: $out"
log "StartTLS with a foreign CA: $(head -n 1 <<<"$out")"
# The same with the check off connects: what refused was the certificate verification.
out=$(LDAP_TRUST=$WORK/pki/other.pem ldap_run env LDAPTLS_REQCERT=never ldapwhoami -x \
	-H "$LDAPS_URI" -D "$ALICE" -w alice-pw 2>&1) || fail "ldaps:// fails even unverified: $out"

# The service account: the user, the group names on it, the groups that name it.
out=$(ldap_search '(uid=alice)' departmentNumber memberOf) || fail "the service account cannot search"
grep -qx "dn: $ALICE" <<<"$out" || fail "(uid=alice) does not find alice: $out"
[ "$(grep '^departmentNumber:' <<<"$out" | sort | tr '\n' ' ')" = \
	"departmentNumber: engineering departmentNumber: staff " ] ||
	fail "alice's departmentNumber is not staff, engineering: $out"
[ "$(grep '^memberOf:' <<<"$out")" = "memberOf: cn=staff,$LDAP_GROUPS" ] ||
	fail "alice's memberOf is not cn=staff only: $out"
[ "$(dns "(&(objectClass=groupOfNames)(member=$ALICE))")" = "cn=staff,$LDAP_GROUPS" ] ||
	fail "the groups naming alice are not cn=staff only"
[ "$(ldap_search '(uid=bob)' memberOf | grep -c '^memberOf:')" = 2 ] ||
	fail "bob is not in two groups"
log "alice: departmentNumber staff, engineering; memberOf and groupOfNames: staff"

# No password hash for the service account; nothing at all for anonymous.
out=$(ldap_search '(uid=alice)' userPassword)
grep -qi '^userPassword' <<<"$out" && fail "the service account reads a password hash"
out=$(ldap_run ldapsearch -LLL -x -ZZ -H "$LDAP_URI" -b "$LDAP_BASE" '(uid=alice)' 2>&1)
grep -q '^dn:' <<<"$out" && fail "anonymous finds entries: $out"
log "userPassword hidden from the service account, entries from anonymous"

# The disabled account binds (its password is fine) but the filter leaves it out.
out=$(whoami "$LDAPS_URI" "uid=dave,$LDAP_PEOPLE" dave-pw) || fail "dave cannot bind: $out"
[ "$(dns '(uid=dave)')" = "uid=dave,$LDAP_PEOPLE" ] || fail "(uid=dave) does not find dave"
[ -z "$(dns "(&(uid=dave)$LDAP_ENABLED_FILTER)")" ] ||
	fail "$LDAP_ENABLED_FILTER does not leave dave out"
[ "$(dns "(&(uid=alice)$LDAP_ENABLED_FILTER)")" = "$ALICE" ] ||
	fail "$LDAP_ENABLED_FILTER leaves alice out"
log "dave (employeeType: disabled) is left out by $LDAP_ENABLED_FILTER"

# Metacharacters: an unescaped * matches everyone, an escaped one only a literal *.
[ "$(dns '(uid=*)' | wc -l)" -ge 5 ] || fail "(uid=*) does not find every user"
[ -z "$(dns '(uid=\2a)')" ] || fail "(uid=\\2a) finds somebody: $(dns '(uid=\2a)')"
STAR=$(dns '(uid=star\2auser\281\29)')
[ "$STAR" = "uid=star*user(1),$LDAP_PEOPLE" ] || fail "the escaped filter finds '$STAR'"
out=$(whoami "$LDAPS_URI" "$STAR" star-pw) || fail "the star user cannot bind: $out"
BACK=$(dns '(uid=back\5cslash)')
[ "$BACK" = "uid=back\\5Cslash,$LDAP_PEOPLE" ] || fail "(uid=back\\5cslash) finds '$BACK'"
out=$(whoami "$LDAPS_URI" "$BACK" back-pw) || fail "the backslash user cannot bind: $out"
log "escaped filters: (uid=\\2a) finds nobody, star*user(1) and back\\slash found and bind"

# ldap_add at run time: a new user and group; the overlay gives the user memberOf.
ldap_add "$(ldap_user carol carol carol-pw)"
ldap_add "dn: cn=ops,$LDAP_GROUPS
objectClass: groupOfNames
cn: ops
member: uid=carol,$LDAP_PEOPLE"
[ "$(ldap_search '(uid=carol)' memberOf | sed -n 's/^memberOf: //p')" = "cn=ops,$LDAP_GROUPS" ] ||
	fail "carol added at run time has no memberOf cn=ops"
whoami "$LDAPS_URI" "uid=carol,$LDAP_PEOPLE" carol-pw >/dev/null || fail "carol cannot bind"
log "ldap_add: carol and group ops added, carol binds"

pid=$LDAP_PID
ldap_stop
kill -0 "$pid" 2>/dev/null && fail "slapd $pid still runs after ldap_stop"
whoami "$LDAP_URI" "$ALICE" alice-pw >/dev/null && fail "slapd still answers after ldap_stop"
pass
