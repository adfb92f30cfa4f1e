# RADIUS server for the integration tests: sourced after lib.sh, used after it_init.
#
# radius_start runs a real FreeRADIUS 3.2 (Debian package freeradius) in the server
# namespace NS_SRV, on 127.0.0.1 only, with a configuration written from scratch under
# $WORK/raddb: nothing of /etc/freeradius is read. It knows these PAP users:
#   alice/alice-pw  Access-Accept with Class and Filter-Id "staff"
#   bob/bob-pw      Access-Accept with an address, netmask, route, DNS server (Microsoft
#                   vendor attribute), IPv6 prefix, session and idle timeouts and an
#                   interim accounting interval
#   carol/carol-pw  Access-Challenge ("Enter your code", with a State); the answer
#                   123456 sent back with that State gets Access-Accept, any other code
#                   Access-Reject
#   slow/slow-pw    Access-Accept after RADIUS_SLOW_SECONDS (10) seconds; the server's
#                   other threads answer everyone else meanwhile
# and rejects every wrong password. Every Accounting-Request is answered and written
# to one detail file, RADIUS_DETAIL, which radius_detail_has and radius_acct_value read.

RADIUS_ADDR=127.0.0.1
RADIUS_AUTH_PORT=1812
RADIUS_ACCT_PORT=1813
RADIUS_SECRET=testing123-sluice
# How long slow's Access-Request takes; set before radius_start to change it.
: "${RADIUS_SLOW_SECONDS:=10}"
# The server's main dictionary directory (radclient reads it too).
RADIUS_DICTDIR=/usr/share/freeradius
# Set by radius_start: configuration directory, debug log, detail file, PID.
RADIUS_DIR=
RADIUS_LOG=
RADIUS_DETAIL=
RADIUS_PID=

# radius_bin: the FreeRADIUS daemon (Debian names it freeradius, upstream radiusd).
radius_bin() { command -v freeradius || command -v radiusd; }

# radius_fail MESSAGE: fails the test with the end of the server's debug log, which
# names the section and module that decided each request.
radius_fail()
{
	if [ -n "$RADIUS_LOG" ] && [ -s "$RADIUS_LOG" ]; then
		echo "----- FreeRADIUS log (last 80 lines of $RADIUS_LOG) -----"
		tail -n 80 "$RADIUS_LOG"
	fi
	fail "$@"
}

# radius_write_users EXTRA_USERS_TEXT: the users file of the files module. Its check
# items (first line) give PAP the password, its reply items go into Access-Accept.
# EXTRA_USERS_TEXT comes last: entries in the same syntax for a test's own users.
radius_write_users()
{
	# Not <<-: the reply lines must keep their leading tab.
	cat <<'EOF'
alice	Cleartext-Password := "alice-pw"
	Class := "staff",
	Filter-Id := "staff"

bob	Cleartext-Password := "bob-pw"
	Framed-IP-Address := 198.19.0.77,
	Framed-IP-Netmask := 255.255.255.0,
	Framed-Route := "198.18.50.0/24",
	MS-Primary-DNS-Server := 198.18.0.53,
	Framed-IPv6-Prefix := fd00:19::/64,
	Session-Timeout := 3600,
	Idle-Timeout := 600,
	Acct-Interim-Interval := 60

carol	Cleartext-Password := "carol-pw"

slow	Cleartext-Password := "slow-pw"

EOF
	printf '%s\n' "$1"
}

# radius_write_config: radiusd.conf and clients.conf in RADIUS_DIR: one virtual server
# and only the modules it uses (the dictionaries come from RADIUS_DICTDIR).
radius_write_config()
{
	local d=$RADIUS_DIR
	cat >"$d/clients.conf" <<-EOF
		client sluice {
			ipaddr = $RADIUS_ADDR
			secret = "$RADIUS_SECRET"
		}
	EOF
	cat >"$d/radiusd.conf" <<-EOF
		prefix = /usr
		localstatedir = /var
		libdir = /usr/lib/freeradius
		raddbdir = $d
		confdir = $d
		logdir = $WORK
		run_dir = $d/run
		pidfile = $d/run/freeradius.pid
		max_request_time = 30
		proxy_requests = no

		# radius_start's -l stdout sends the debug output to RADIUS_LOG.
		log {
			destination = stdout
			auth = yes
		}

		# No user and group: the server keeps running as root, as the harness does;
		# as freerad it could not write the detail file in the root-owned WORK.
		# reject_delay = 0: a wrong password is answered at once.
		security {
			reject_delay = 0
			status_server = yes
		}

		\$INCLUDE clients.conf

		# Threads: slow's request waits in one while the others answer.
		thread pool {
			start_servers = 4
			max_servers = 16
			min_spare_servers = 2
			max_spare_servers = 8
			max_requests_per_server = 0
		}

		modules {
			# ok, reject and handled in unlang are modules that return that code.
			always ok {
				rcode = ok
			}
			always reject {
				rcode = reject
			}
			always handled {
				rcode = handled
			}
			pap {
			}
			files {
				filename = $d/users
			}
			# Holds the thread that runs it (wait = yes) for slow's delay.
			exec slow_delay {
				wait = yes
				program = "/bin/sleep $RADIUS_SLOW_SECONDS"
				timeout = $((RADIUS_SLOW_SECONDS + 10))
			}
			detail {
				filename = $RADIUS_DETAIL
				escape_filenames = no
				permissions = 0600
				header = "%t"
				locking = no
			}
		}

		server sluice {
			listen {
				type = auth
				ipaddr = $RADIUS_ADDR
				port = $RADIUS_AUTH_PORT
			}
			listen {
				type = acct
				ipaddr = $RADIUS_ADDR
				port = $RADIUS_ACCT_PORT
			}

			authorize {
				# carol's second round: the State of her challenge brought back
				# the session-state stored with it, and her code decides.
				if (&session-state:Tmp-String-0 == "carol-code") {
					update control {
						&Auth-Type := carol-code
					}
					return
				}
				if (&User-Name == "slow") {
					slow_delay
				}
				files
				pap
			}

			authenticate {
				Auth-Type PAP {
					pap
					# carol's right password gets Access-Challenge instead of
					# Access-Accept; the server adds a State to it and keeps
					# session-state under that State.
					if (ok && &User-Name == "carol") {
						update reply {
							&Reply-Message := "Enter your code"
						}
						update session-state {
							&Tmp-String-0 := "carol-code"
						}
						update control {
							&Response-Packet-Type := Access-Challenge
						}
						handled
					}
				}
				Auth-Type carol-code {
					if (&User-Password == "123456") {
						ok
					}
					else {
						reject
					}
				}
			}

			preacct {
			}
			accounting {
				detail
			}

			post-auth {
				# An Access-Reject carries none of the users file's reply items.
				Post-Auth-Type REJECT {
					update {
						&reply: !* ANY
					}
				}
			}
		}
	EOF
}

# radius_request TYPE [radclient options...]: sends the request whose attributes are on
# stdin ("Name = value" lines) from the server namespace to our FreeRADIUS with radclient
# (TYPE auth, acct or status; bounded, 3 s per try, 2 tries unless the options say
# otherwise) and prints radclient's output: the packets sent and received and their
# attributes. Returns radclient's status (non-zero for Access-Reject or no answer).
radius_request()
{
	local type=$1 port=$RADIUS_AUTH_PORT
	shift
	[ "$type" = acct ] && port=$RADIUS_ACCT_PORT
	ip netns exec "$NS_SRV" timeout 60 radclient -d "$RADIUS_DIR" -D "$RADIUS_DICTDIR" \
		-t 3 -r 2 -x "$@" "$RADIUS_ADDR:$port" "$type" "$RADIUS_SECRET" 2>&1
}

# radius_start [EXTRA_USERS_TEXT]: writes the configuration (EXTRA_USERS_TEXT is
# appended to the users file), starts FreeRADIUS in NS_SRV in the foreground with
# threads and debug output (-f -xx; -X would disable threads) into RADIUS_LOG, its PID
# in RADIUS_PID and OWN_PIDS, and waits (bounded) until it answers a Status-Server.
radius_start()
{
	local bin
	bin=$(radius_bin) || skip "FreeRADIUS is not installed (Debian package freeradius)"
	command -v radclient >/dev/null || skip "radclient is not installed (freeradius-utils)"
	[ -d "$RADIUS_DICTDIR" ] || skip "no FreeRADIUS dictionaries in $RADIUS_DICTDIR"
	RADIUS_DIR=$WORK/raddb
	RADIUS_LOG=$WORK/radius.log
	RADIUS_DETAIL=$WORK/radius-detail
	mkdir -p "$RADIUS_DIR/run" || fail "cannot create $RADIUS_DIR"
	chmod 755 "$RADIUS_DIR" "$RADIUS_DIR/run"
	radius_write_users "${1:-}" >"$RADIUS_DIR/users"
	radius_write_config
	# Whatever the umask: FreeRADIUS refuses to start with a configuration file that
	# others may write.
	chmod 640 "$RADIUS_DIR"/*.conf "$RADIUS_DIR/users"
	# Checks the configuration first: a mistake is reported as such, not as a timeout.
	ip netns exec "$NS_SRV" "$bin" -C -d "$RADIUS_DIR" -D "$RADIUS_DICTDIR" -l stdout \
		>"$WORK/radius-check.log" 2>&1 || {
		tail -n 30 "$WORK/radius-check.log"
		fail "FreeRADIUS refuses the configuration in $RADIUS_DIR"
	}
	# timeout: a test killed before its cleanup leaves no server running for long.
	ip netns exec "$NS_SRV" timeout 900 "$bin" -f -xx -l stdout -d "$RADIUS_DIR" \
		-D "$RADIUS_DICTDIR" >"$RADIUS_LOG" 2>&1 &
	RADIUS_PID=$!
	OWN_PIDS+=("$RADIUS_PID")
	# Its sockets are bound before its threads run; a Status-Server sent earlier would
	# only meet an ICMP error and cost radclient a timeout.
	for _ in $(seq 1 100); do
		kill -0 "$RADIUS_PID" 2>/dev/null || radius_fail "FreeRADIUS exited at start"
		ip netns exec "$NS_SRV" ss -Hlun "sport = :$RADIUS_AUTH_PORT" | grep -q . && break
		sleep 0.05
	done
	for _ in $(seq 1 10); do
		kill -0 "$RADIUS_PID" 2>/dev/null || radius_fail "FreeRADIUS exited at start"
		if radius_request status -t 1 -r 1 <<<'Message-Authenticator = 0x00' |
			grep -q '^Received Access-Accept'; then
			log "FreeRADIUS started (pid $RADIUS_PID, $RADIUS_ADDR:$RADIUS_AUTH_PORT" \
				"and :$RADIUS_ACCT_PORT in $NS_SRV)"
			return 0
		fi
	done
	radius_fail "FreeRADIUS does not answer Status-Server on $RADIUS_ADDR:$RADIUS_AUTH_PORT"
}

# radius_stop: stops the FreeRADIUS of radius_start and the programs it runs (slow's
# sleep), and forgets its PID.
radius_stop()
{
	[ -n "$RADIUS_PID" ] || return 0
	local kids k p keep=()
	kids=$(descendants "$RADIUS_PID")
	stop_pid "$RADIUS_PID"
	for k in $kids; do
		kill -KILL "$k" 2>/dev/null
	done
	for p in "${OWN_PIDS[@]}"; do
		[ "$p" = "$RADIUS_PID" ] || keep+=("$p")
	done
	OWN_PIDS=("${keep[@]}")
	RADIUS_PID=
}

# radius_detail_has PATTERN [SECONDS]: waits (bounded, default 5 s) for an extended
# regex in the detail file.
radius_detail_has()
{
	local pat=$1 limit=${2:-5}
	for _ in $(seq 1 $((limit * 10))); do
		grep -Eq -- "$pat" "$RADIUS_DETAIL" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# radius_acct_value STATUS_TYPE ATTRIBUTE [SESSION_ID]: prints the value of ATTRIBUTE
# (without the quotes of a string) in the last record of the detail file whose
# Acct-Status-Type is STATUS_TYPE (Start, Interim-Update, Stop, ...) and, when given,
# whose Acct-Session-Id is SESSION_ID; returns 1 if there is none. A record is
# a time stamp line followed by one tab-indented "Name = value" line per attribute.
radius_acct_value()
{
	awk -v st="$1" -v at="$2" -v sid="${3:-}" '
		function finish() {
			if (status == st && (sid == "" || v["Acct-Session-Id"] == sid)) {
				found = (at in v); val = v[at]
			}
			delete v
			status = ""
		}
		/^[^\t]/ { finish(); next }
		/^\t/ {
			line = substr($0, 2)
			i = index(line, " = ")
			if (!i) next
			name = substr(line, 1, i - 1)
			value = substr(line, i + 3)
			if (value ~ /^".*"$/) value = substr(value, 2, length(value) - 2)
			v[name] = value
			if (name == "Acct-Status-Type") status = value
		}
		END {
			finish()
			if (!found) exit 1
			print val
		}' "$RADIUS_DETAIL" 2>/dev/null
}

# radius_client_config [TIMEOUT [RETRIES]]: radcli's configuration for sluiced, in
# $WORK/radcli: this server for authentication and accounting, its secret in a servers
# file (root's, 0600), and a dictionary with the Microsoft and Roaring Penguin vendor
# attributes and ChilliSpot-Max-Total-Octets. Sets RADCLI_CONF.
radius_client_config()
{
	local d=$WORK/radcli
	mkdir -p "$d"
	printf '%s %s\n' "$RADIUS_ADDR" "$RADIUS_SECRET" >"$d/servers"
	chmod 600 "$d/servers"
	{
		printf '$INCLUDE /etc/radcli/%s\n' dictionary dictionary.microsoft \
			dictionary.roaringpenguin
		printf 'VENDOR ChilliSpot 14559\n'
		printf 'ATTRIBUTE ChilliSpot-Max-Total-Octets 3 integer ChilliSpot\n'
	} >"$d/dictionary"
	cat >"$d/radiusclient.conf" <<-EOF
		authserver $RADIUS_ADDR:$RADIUS_AUTH_PORT
		acctserver $RADIUS_ADDR:$RADIUS_ACCT_PORT
		servers $d/servers
		dictionary $d/dictionary
		default_realm
		radius_timeout ${1:-6}
		radius_retries ${2:-1}
		bindaddr *
	EOF
	RADCLI_CONF=$d/radiusclient.conf
}
