# An OpenLDAP slapd for the tests of the ldap authentication method: sourced after lib.sh
# (it uses WORK, NS_SRV, OWN_PIDS, stop_pid, fail, log and the test CA of make_certs).
#
# ldap_start writes a small slapd.conf under $WORK/ldap, loads the test directory with
# slapadd and runs slapd inside the server namespace on 127.0.0.1 only, with ldap://
# (StartTLS) and ldaps://, both with a certificate for 127.0.0.1 from the test CA.
#
# The directory (suffix dc=example,dc=test; passwords {SSHA}-hashed):
#   ou=people   uid=alice        alice-pw; departmentNumber staff, engineering; in staff
#               uid=bob          bob-pw; departmentNumber staff, admins; in staff, admins
#               uid=dave         dave-pw; like bob, but employeeType: disabled (below)
#               uid=star*user(1) star-pw: the filter metacharacters * ( )
#               uid=back\slash   back-pw: a backslash (\5C in its DN)
#   ou=groups   cn=staff, cn=admins (groupOfNames; member = user DNs)
#   ou=services cn=sluice        sluice-pw, the service account (LDAP_BIND_DN,
#                                LDAP_BIND_PW_FILE)
# Group names come three ways: departmentNumber on the user (plain names; "engineering"
# is only there, so a test can tell that source from the others), the groupOfNames that
# name the user as member, and memberOf on the user (group DNs, kept by the memberof
# overlay; AD's attribute).
#
# A disabled account is marked the way a filter can see, as AD's userAccountControl is:
# employeeType: disabled (a standard inetOrgPerson attribute). Its password still
# binds, so only a user filter with LDAP_ENABLED_FILTER keeps it out.
#
# ACLs: anonymous may only bind (auth, no search); a user binds with their own
# password; the service account reads everything but userPassword; the rootdn
# (LDAP_ADMIN_DN, password LDAP_ADMIN_PW) is above the ACLs and used only by ldap_add.

: "${LDAP_PORT:=389}"
: "${LDAPS_PORT:=636}"
: "${LDAP_ADMIN_PW:=admin-pw}"
LDAP_DIR=
LDAP_PID=
LDAP_LOG=
LDAP_URI=ldap://127.0.0.1:$LDAP_PORT
LDAPS_URI=ldaps://127.0.0.1:$LDAPS_PORT
LDAP_BASE=dc=example,dc=test
LDAP_PEOPLE=ou=people,$LDAP_BASE
LDAP_GROUPS=ou=groups,$LDAP_BASE
LDAP_ADMIN_DN=cn=admin,$LDAP_BASE
LDAP_BIND_DN=cn=sluice,ou=services,$LDAP_BASE
LDAP_BIND_PW=sluice-pw
LDAP_BIND_PW_FILE=
LDAP_CA=
# ANDed into a user filter, it leaves the disabled accounts out.
LDAP_ENABLED_FILTER='(!(employeeType=disabled))'

# ldap_hash PASSWORD: the {SSHA} hash slapd stores for PASSWORD.
ldap_hash() { slappasswd -h '{SSHA}' -s "$1"; }

# ldap_user UID RDN-VALUE PASSWORD [LDIF-LINES]: an inetOrgPerson entry of ou=people;
# RDN-VALUE is UID as a DN writes it (RFC 4514 escapes), LDIF-LINES are extra attributes.
ldap_user()
{
	printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\n' \
		"$2" "$LDAP_PEOPLE" "$1" "$1" "$1"
	printf 'userPassword: %s\n' "$(ldap_hash "$3")"
	[ -n "${4:-}" ] && printf '%s\n' "$4"
	echo
}

# ldap_cert: $WORK/pki/ldap.{key,pem}, slapd's certificate for 127.0.0.1, signed by the
# test CA (make_certs must have run). Not for "localhost": libldap checks a certificate
# for that name against the machine's hostname instead, so the URIs use 127.0.0.1.
ldap_cert()
{
	local d=$WORK/pki
	[ -f "$d/ca.key" ] || fail "ldap_start needs the test CA: run make_certs first"
	printf '%s\n' 'cn = "sluice test LDAP"' 'ip_address = "127.0.0.1"' tls_www_server \
		signing_key encryption_key 'expiration_days = 2' >"$d/ldap.tmpl"
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		--outfile "$d/ldap.key" >/dev/null 2>&1 &&
		certtool --generate-certificate --load-privkey "$d/ldap.key" \
			--load-ca-certificate "$d/ca.pem" --load-ca-privkey "$d/ca.key" \
			--template "$d/ldap.tmpl" --outfile "$d/ldap.pem" >/dev/null 2>&1 ||
		fail "certtool cannot make the LDAP server certificate"
	LDAP_CA=$d/ca.pem
}

# ldap_conf: slapd.conf: the schemas inetOrgPerson needs, TLS, one mdb database with
# the memberof overlay, and the ACLs above. slapd reads it with -f, slapadd too.
ldap_conf()
{
	cat >"$LDAP_DIR/slapd.conf" <<-EOF
		include /etc/ldap/schema/core.schema
		include /etc/ldap/schema/cosine.schema
		include /etc/ldap/schema/inetorgperson.schema
		modulepath /usr/lib/ldap
		moduleload back_mdb
		moduleload memberof
		pidfile $LDAP_DIR/slapd.pid
		argsfile $LDAP_DIR/slapd.args
		TLSCACertificateFile $LDAP_CA
		TLSCertificateFile $WORK/pki/ldap.pem
		TLSCertificateKeyFile $WORK/pki/ldap.key

		database mdb
		suffix "$LDAP_BASE"
		rootdn "$LDAP_ADMIN_DN"
		rootpw $(ldap_hash "$LDAP_ADMIN_PW")
		directory $LDAP_DIR/db
		maxsize 16777216
		index objectClass,uid,member eq
		# memberOf on each user, kept in step with the groupOfNames that name them.
		overlay memberof
		memberof-refint TRUE

		# A password is only ever compared by a bind, never read. (The "by" lines are
		# continuations: they start with spaces, which <<- leaves, not tabs.)
		access to attrs=userPassword
		  by anonymous auth
		  by * none
		access to *
		  by dn.exact="$LDAP_BIND_DN" read
		  by * none
	EOF
}

# ldap_entries: the directory but for the groups (LDIF). The groups are added once slapd
# runs, so that the memberof overlay (which slapadd bypasses) writes memberOf.
ldap_entries()
{
	local o
	printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: example\n\n' \
		"$LDAP_BASE"
	for o in people groups services; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' "$o" "$LDAP_BASE" "$o"
	done
	printf 'dn: %s\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: sluice\nuserPassword: %s\n\n' \
		"$LDAP_BIND_DN" "$(ldap_hash "$LDAP_BIND_PW")"
	ldap_user alice alice alice-pw $'departmentNumber: staff\ndepartmentNumber: engineering'
	ldap_user bob bob bob-pw $'departmentNumber: staff\ndepartmentNumber: admins'
	ldap_user dave dave dave-pw $'departmentNumber: staff\ndepartmentNumber: admins\nemployeeType: disabled'
	# In a DN, * ( ) need no escape (RFC 4514) but a backslash does; in a filter all
	# four do (RFC 4515): (uid=star\2auser\281\29), (uid=back\5cslash).
	ldap_user 'star*user(1)' 'star*user(1)' star-pw
	ldap_user 'back\slash' 'back\5Cslash' back-pw
}

# ldap_groups: the groupOfNames (LDIF), for ldap_add.
ldap_groups()
{
	printf 'dn: cn=staff,%s\nobjectClass: groupOfNames\ncn: staff\nmember: uid=alice,%s\nmember: uid=bob,%s\nmember: uid=dave,%s\n\n' \
		"$LDAP_GROUPS" "$LDAP_PEOPLE" "$LDAP_PEOPLE" "$LDAP_PEOPLE"
	printf 'dn: cn=admins,%s\nobjectClass: groupOfNames\ncn: admins\nmember: uid=bob,%s\nmember: uid=dave,%s\n\n' \
		"$LDAP_GROUPS" "$LDAP_PEOPLE" "$LDAP_PEOPLE"
}

# ldap_run COMMAND [ARGS...]: runs an ldap-utils command in the server namespace,
# bounded, trusting only the test CA (LDAPTLS_CACERT overrides /etc/ldap/ldap.conf) and
# demanding a valid certificate for the host of the URI. LDAP_TRUST=FILE (e.g. as a
# prefix, LDAP_TRUST=other.pem ldap_run ...) trusts another CA instead.
ldap_run()
{
	ip netns exec "$NS_SRV" timeout 10 env LDAPTLS_CACERT="${LDAP_TRUST:-$LDAP_CA}" \
		LDAPTLS_REQCERT=demand "$@"
}

# ldap_search FILTER [ATTRIBUTES...]: searches the whole suffix as the service account
# over StartTLS; prints the entries as LDIF without comments or line wrapping.
ldap_search()
{
	local f=$1
	shift
	ldap_run ldapsearch -LLL -o ldif-wrap=no -ZZ -x -H "$LDAP_URI" -D "$LDAP_BIND_DN" \
		-y "$LDAP_BIND_PW_FILE" -b "$LDAP_BASE" "$f" "$@"
}

# ldap_add LDIF: adds entries (LDIF text) to the running slapd as the rootdn.
ldap_add()
{
	ldap_run ldapadd -x -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" -y "$LDAP_DIR/admin.pw" \
		<<<"$1" >>"$LDAP_DIR/ldapadd.log" 2>&1 ||
		fail "ldapadd failed: $(tail -n 3 "$LDAP_DIR/ldapadd.log")"
}

# ldap_start: slapd with the test directory on LDAP_URI and LDAPS_URI (127.0.0.1 in the
# server namespace), in the foreground (-d 0) so its PID is ours (LDAP_PID, OWN_PIDS).
# Waits (bounded) until it answers over TLS. Needs make_certs; sets LDAP_CA and
# LDAP_BIND_PW_FILE (the service account's password, no newline, mode 0600, as
# ldap-utils' -y reads it).
ldap_start()
{
	local deadline=$((SECONDS + 10))
	require_cmd slapd slapadd slappasswd ldapadd ldapwhoami
	LDAP_DIR=$WORK/ldap
	LDAP_LOG=$LDAP_DIR/slapd.log
	mkdir -p "$LDAP_DIR/db"
	ldap_cert
	(
		umask 077
		printf '%s' "$LDAP_BIND_PW" >"$LDAP_DIR/bind.pw"
		printf '%s' "$LDAP_ADMIN_PW" >"$LDAP_DIR/admin.pw"
	)
	LDAP_BIND_PW_FILE=$LDAP_DIR/bind.pw
	ldap_conf
	[[ $(ldap_hash x) == '{SSHA}'* ]] || fail "slappasswd cannot make an {SSHA} hash"
	ldap_entries >"$LDAP_DIR/base.ldif"
	slapadd -q -f "$LDAP_DIR/slapd.conf" -l "$LDAP_DIR/base.ldif" >"$LDAP_DIR/slapadd.log" 2>&1 ||
		fail "slapadd failed: $(tail -n 5 "$LDAP_DIR/slapadd.log")"
	ip netns exec "$NS_SRV" slapd -d 0 -f "$LDAP_DIR/slapd.conf" \
		-h "$LDAP_URI/ $LDAPS_URI/" >"$LDAP_LOG" 2>&1 &
	LDAP_PID=$!
	OWN_PIDS+=("$LDAP_PID")
	# Anonymous binds are allowed: the first that works over StartTLS says both the
	# listener and TLS are up.
	until ldap_run ldapwhoami -x -ZZ -H "$LDAP_URI" >/dev/null 2>&1; do
		kill -0 "$LDAP_PID" 2>/dev/null ||
			fail "slapd exited at start: $(tail -n 5 "$LDAP_LOG")"
		[ $SECONDS -lt $deadline ] ||
			fail "slapd does not answer on $LDAP_URI after 10 s: $(tail -n 5 "$LDAP_LOG")"
		sleep 0.1
	done
	ldap_add "$(ldap_groups)"
	log "slapd $LDAP_PID on $LDAP_URI and $LDAPS_URI, base $LDAP_BASE"
}

# ldap_stop: stops slapd (bounded) and forgets its PID.
ldap_stop()
{
	local p keep=()
	[ -n "$LDAP_PID" ] || return 0
	stop_pid "$LDAP_PID"
	for p in "${OWN_PIDS[@]}"; do
		[ "$p" = "$LDAP_PID" ] || keep+=("$p")
	done
	OWN_PIDS=("${keep[@]}")
	LDAP_PID=
}
