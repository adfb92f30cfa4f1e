#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# sluice-gendoc: the generated sluiced(8) and sample configuration document every key
# that sluiced --help-config lists and sluiced(8) every option of sluiced --help; the
# sample configuration loads as generated, and also with every key uncommented (so
# each default and example value is valid); sluicectl(8) describes every command of
# sluicectl --help, and sluice-certs(8) every command and option of sluice-certs
# --help; the manual pages pass mandoc's lint.
#
# Exit status: 0 pass, 1 fail, 77 skip (binaries not built).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${GENDOC:=$top_builddir/src/sluice-gendoc}"
: "${SLUICED:=$top_builddir/src/sluiced}"
: "${SLUICECTL:=$top_builddir/src/sluicectl}"
: "${SLUICECERTS:=$top_builddir/src/sluice-certs}"

log() { printf 'test_gendoc: %s\n' "$*"; }
fail()
{
	log "FAIL: $*"
	exit 1
}

for bin in "$GENDOC" "$SLUICED" "$SLUICECTL" "$SLUICECERTS"; do
	if [ ! -x "$bin" ]; then
		log "SKIP: $bin does not exist (build it first)"
		exit 77
	fi
done

WORK=$(mktemp -d /tmp/sluice-gendoc.XXXXXX) || fail "mktemp"
trap 'rm -rf "$WORK"' EXIT
man=$WORK/sluiced.8
sample=$WORK/sample.config

"$GENDOC" man "$top_srcdir/doc/sluiced.8.in" >"$man" || fail "sluice-gendoc man failed"
"$GENDOC" sample >"$sample" || fail "sluice-gendoc sample failed"

# Key names are the lines of --help-config that do not start with white space.
mapfile -t keys < <("$SLUICED" --help-config | grep -E '^[^[:space:]]')
[ ${#keys[@]} -gt 0 ] || fail "sluiced --help-config lists no keys"
for key in "${keys[@]}"; do
	[[ $key =~ ^[a-z0-9_-]+$ ]] || fail "unexpected key name '$key' in --help-config"
	grep -qxF ".B ${key//-/\\-}" "$man" || fail "key $key is missing from sluiced.8"
	grep -qE "^#?$key = " "$sample" || fail "key $key is missing from sample.config"
done
log "all ${#keys[@]} keys are in sluiced.8 and sample.config"

mapfile -t opts < <("$SLUICED" --help | grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' |
	sed 's/^[ ,]*//')
[ ${#opts[@]} -gt 0 ] || fail "sluiced --help lists no options"
# The words of the tags (the line after .TP) of the OPTIONS section, "=ARG" cut off.
awk '/^\.SH/ { in_opts = ($2 == "OPTIONS") } in_opts && tag { print } { tag = /^\.TP/ }' "$man" |
	tr -s ' ' '\n' | sed 's/=.*//' >"$WORK/tags"
for opt in "${opts[@]}"; do
	grep -qxF -- "${opt//-/\\-}" "$WORK/tags" ||
		fail "option $opt is not described in OPTIONS of sluiced.8"
done
log "all ${#opts[@]} options of sluiced --help are in sluiced.8"

"$SLUICED" --dump-config -c "$sample" >"$WORK/dump" 2>"$WORK/err" ||
	fail "sample.config does not load: $(cat "$WORK/err")"
log "sample.config loads"

# Keys allowed only in per-user and per-group files stay commented out.
mapfile -t user_only < <("$SLUICED" --help-config |
	awk '/^[^[:space:]]/ { key = $1 } /only in per-user and per-group files/ { print key }')
[ ${#user_only[@]} -gt 0 ] || fail "sluiced --help-config names no per-user-only key"
only_re=$(IFS='|'; echo "${user_only[*]}")
sed -E "/^#($only_re) = /!s/^#([a-z0-9_-]+ = )/\1/" "$sample" >"$WORK/all.config"
"$SLUICED" --dump-config -c "$WORK/all.config" >"$WORK/dump" 2>"$WORK/err" ||
	fail "sample.config with every key uncommented does not load: $(cat "$WORK/err")"
for key in "${keys[@]}"; do
	[[ " ${user_only[*]} " == *" $key "* ]] && continue
	grep -qE "^$key = " "$WORK/dump" ||
		fail "key $key is not set by sample.config with every key uncommented"
done
log "sample.config loads with every key uncommented"

# sluicectl's commands: the words of each help line before its argument (an upper-case
# name or "a|b"); the tags of COMMANDS in sluicectl.8, roff fonts and quotes removed.
ctlman=$top_srcdir/doc/sluicectl.8
mapfile -t cmds < <("$SLUICECTL" --help | sed -n '/^commands:/,$p' | sed 1d |
	sed -E 's/^  //; s/  .*//' | awk '{ c = ""; for (i = 1; i <= NF; i++) {
		if ($i ~ /[A-Z|]/) break; c = c (c == "" ? "" : " ") $i }; print c }')
[ ${#cmds[@]} -gt 0 ] || fail "sluicectl --help lists no commands"
awk '/^\.SH/ { in_cmds = ($2 == "COMMANDS") } in_cmds && tag { print } { tag = /^\.TP/ }' \
	"$ctlman" | sed -E 's/^\.[A-Z]+ //; s/\\f[A-Z]//g; s/\\-/-/g; s/"//g' | tr -s ' ' \
	>"$WORK/ctltags"
for cmd in "${cmds[@]}"; do
	grep -qE "^$cmd( |$)" "$WORK/ctltags" || fail "command '$cmd' is not in COMMANDS of sluicectl.8"
done
log "all ${#cmds[@]} commands of sluicectl --help are in sluicectl.8"

# sluice-certs: the first word of each command line of --help, and each long option of
# it; the first word of each tag of COMMANDS and the words of the tags of OPTIONS.
certsman=$top_srcdir/doc/sluice-certs.8
section_tags()
{
	awk -v sec="$1" '/^\.SH/ { in_sec = ($2 == sec) } in_sec && tag { print } { tag = /^\.TP/ }' \
		"$certsman" | sed -E 's/^\.[A-Z]+ //; s/\\f[A-Z]//g; s/\\-/-/g; s/"//g'
}
mapfile -t ccmds < <("$SLUICECERTS" --help | sed -n '/^commands:/,/^$/p' |
	grep -E '^  [a-z]' | awk '{ print $1 }')
[ ${#ccmds[@]} -gt 0 ] || fail "sluice-certs --help lists no commands"
section_tags COMMANDS | awk '{ print $1 }' >"$WORK/certscmds"
for cmd in "${ccmds[@]}"; do
	grep -qxF -- "$cmd" "$WORK/certscmds" ||
		fail "command '$cmd' is not in COMMANDS of sluice-certs.8"
done
mapfile -t copts < <("$SLUICECERTS" --help | sed -n '/^options:/,/^$/p' |
	grep -oE -- '--[a-z0-9-]+' | sort -u)
[ ${#copts[@]} -gt 0 ] || fail "sluice-certs --help lists no options"
section_tags OPTIONS | tr -s ' ,' '\n\n' >"$WORK/certsopts"
for opt in "${copts[@]}"; do
	grep -qxF -- "$opt" "$WORK/certsopts" ||
		fail "option $opt is not described in OPTIONS of sluice-certs.8"
done
log "all ${#ccmds[@]} commands and ${#copts[@]} options of sluice-certs --help are in sluice-certs.8"

# doc/ocserv-keys.md is committed for people to read on the web: it must be what the code
# makes of ocserv's keys now.
"$GENDOC" ocserv >"$WORK/ocserv-keys.md" || fail "sluice-gendoc ocserv failed"
diff -u "$top_srcdir/doc/ocserv-keys.md" "$WORK/ocserv-keys.md" >&2 ||
	fail "doc/ocserv-keys.md is out of date: src/sluice-gendoc ocserv >doc/ocserv-keys.md"
grep -c '^| `' "$WORK/ocserv-keys.md" | grep -qxE '[1-9][0-9]{2}' ||
	fail "doc/ocserv-keys.md lists fewer than 100 keys"
log "doc/ocserv-keys.md matches the code"

if command -v mandoc >/dev/null; then
	for page in "$man" "$top_srcdir/doc/sluice-passwd.8" "$ctlman" "$certsman" \
		"$top_srcdir/doc/sluice-access.8"; do
		out=$(mandoc -Tlint -W warning "$page" 2>&1)
		[ -z "$out" ] || fail "mandoc -Tlint: $out"
	done
	log "mandoc -Tlint finds nothing"
else
	log "mandoc is not installed: lint not checked"
fi
log "PASS"
