# Generates a channel's route macros from its .proto, so that what a message may carry
# and when it is allowed is written once, in the .proto comment above its type:
#
#   // SENDER -> RECEIVER, N fds, STATES[, once][, secret][, payload TYPE]. Prose.
#
# STATES: "any", "awaited" (the receiver waits for it with ipc_recv_expect(), so it has no
# route), or state names joined by "|". A directive names the C prefix of each
# receiver's states:
#
#   // contract: main=MWS_ worker=WK_
#
# For every message type NAME it prints IPC_NFDS_NAME and, unless awaited,
# IPC_ROUTE_NAME(handler): the route table row. A malformed comment fails the build.
#
# Usage: awk -f contract.awk main_worker.proto > main_worker.routes.h

function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# CamelCase -> snake_case, as protoc-c names C identifiers.
function snake(s,    out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c ~ /[A-Z]/ && i > 1)
			out = out "_"
		out = out tolower(c)
	}
	return out
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

BEGIN {
	in_enum = 0
	comment = ""
	base = FILENAME
}

FNR == 1 {
	base = FILENAME
	sub(/.*\//, "", base)
	printf "/* Generated from %s by contract.awk: do not edit; edit the .proto. */\n", base
}

/^\/\/ contract:/ {
	line = $0
	sub(/^\/\/ contract:[ \t]*/, "", line)
	n = split(line, parts, /[ \t]+/)
	for (i = 1; i <= n; i++) {
		if (split(parts[i], kv, "=") != 2)
			fail("contract directive: expected role=PREFIX, got '" parts[i] "'")
		prefix[kv[1]] = kv[2]
	}
	next
}

/^enum [A-Za-z]+Type *\{/ {
	in_enum = 1
	enum_c = toupper(snake($2))
	comment = ""
	next
}

in_enum && /^\}/ {
	in_enum = 0
	next
}

in_enum && /^[ \t]*\/\// {
	text = $0
	sub(/^[ \t]*\/\/[ \t]?/, "", text)
	if (comment == "")
		comment = text
	else
		comment = comment " " text
	next
}

in_enum && /^[ \t]*[A-Z][A-Z0-9_]* *= *[0-9]+;/ {
	name = $1
	sub(/=.*/, "", name)
	name = trim(name)
	if (comment == "") {
		# Only the enum's zero value goes without a contract.
		if ($0 !~ /= *0;/)
			fail(name ": no contract comment")
		next
	}
	head = comment
	comment = ""
	if (!match(head, /\.( |$)/))
		fail(name ": the contract sentence does not end with '.'")
	head = substr(head, 1, RSTART - 1)
	nf = split(head, f, /, /)
	if (nf < 3)
		fail(name ": expected 'SENDER -> RECEIVER, N fds, STATES'")
	if (split(f[1], sr, / -> /) != 2)
		fail(name ": expected 'SENDER -> RECEIVER', got '" f[1] "'")
	receiver = trim(sr[2])
	if (f[2] !~ /^[0-9]+ fds?$/)
		fail(name ": expected 'N fds', got '" f[2] "'")
	nfds = f[2] + 0
	flags = ""
	payload = tolower(name)
	for (i = 4; i <= nf; i++) {
		if (f[i] == "once")
			flags = flags (flags == "" ? "" : " | ") "IPC_ONCE"
		else if (f[i] == "secret")
			flags = flags (flags == "" ? "" : " | ") "IPC_SECRET"
		else if (f[i] ~ /^payload [A-Z][A-Za-z]+$/)
			payload = snake(substr(f[i], 9))
		else
			fail(name ": unknown flag '" f[i] "'")
	}
	if (flags == "")
		flags = "0"
	printf "#define IPC_NFDS_%s %d\n", name, nfds
	if (f[3] == "awaited")
		next
	if (f[3] == "any") {
		states = "IPC_ANY_STATE"
	} else {
		if (!(receiver in prefix))
			fail(name ": no contract directive names the states of '" receiver "'")
		ns = split(f[3], st, /\|/)
		states = ""
		for (i = 1; i <= ns; i++) {
			if (st[i] !~ /^[A-Z][A-Z0-9_]*$/)
				fail(name ": bad state name '" st[i] "'")
			states = states (i > 1 ? " | " : "") prefix[receiver] st[i]
		}
	}
	printf "#define IPC_ROUTE_%s(handler) \\\n", name
	printf "\t{%s__%s, \"%s\", &%s__descriptor, handler, %d, %s, %s}\n", enum_c, name,
	       name, tolower(payload), nfds, states, flags
	next
}

in_enum && /[^ \t]/ {
	fail("unexpected line in the enum: " $0)
}
