#!/bin/bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
# The link line enforces the folders (doc/design.md, Layout): sluice-worker defines no
# symbol that the main, sec, configuration or password-file archives define, needs
# neither libcrypt nor inih, and its link line names none of those archives or
# libraries. The forbidden symbols are read from the archives themselves, so the check
# follows the code when it moves between files.
#
# Exit status: 0 pass, 1 fail, 77 skip (not built, or no binutils).
set -u
export LC_ALL=C

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${NM:=nm}"
: "${READELF:=readelf}"
: "${MAKE:=make}"

WORKER=$top_builddir/src/sluice-worker
ROLES=(main sec config passwd)
ARCHIVES=("${ROLES[@]/#/src/libsluice-}")
ARCHIVES=("${ARCHIVES[@]/%/.a}")

log() { printf 'test_linkline: %s\n' "$*"; }
fail=0
problem()
{
	log "FAIL: $*"
	fail=1
}

for tool in "$NM" "$READELF"; do
	command -v "$tool" >/dev/null || {
		log "SKIP: $tool not found (binutils)"
		exit 77
	}
done
for f in "$WORKER" "${ARCHIVES[@]/#/$top_builddir/}"; do
	[ -f "$f" ] || {
		log "SKIP: $f does not exist (build it first)"
		exit 77
	}
done

WORK=$(mktemp -d /tmp/sluice-linkline.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT

# Defined global symbols, one "name<TAB>where" per line: nm -A prefixes each line
# with the file (and, in an archive, the member) that defines it.
defined()
{
	"$NM" -A -g --defined-only "$1" 2>/dev/null |
		awk 'NF == 3 && $2 ~ /^[A-Z]$/ { w = $1; sub(/:[^:]*$/, "", w); print $3 "\t" w }'
}

(cd "$top_builddir" && for a in "${ARCHIVES[@]}"; do defined "$a"; done) |
	sort -u -k1,1 >"$WORK/forbidden"
[ -s "$WORK/forbidden" ] || problem "no symbols found in the forbidden archives"
defined "$WORKER" | cut -f1 | sort -u >"$WORK/worker"
[ -s "$WORK/worker" ] || problem "no symbols found in $WORKER"

join -t "$(printf '\t')" "$WORK/worker" "$WORK/forbidden" >"$WORK/both"
if [ -s "$WORK/both" ]; then
	problem "sluice-worker defines symbols of ${ARCHIVES[*]}:"
	awk -F '\t' '{ printf "  %s (from %s)\n", $1, $2 }' "$WORK/both"
else
	log "sluice-worker defines none of the $(wc -l <"$WORK/forbidden") global symbols" \
		"of ${ARCHIVES[*]}"
fi

needed=$("$READELF" -d "$WORKER" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
bad=$(grep -E '^lib(crypt|inih)\.so' <<<"$needed")
if [ -n "$bad" ]; then
	problem "sluice-worker needs $(tr '\n' ' ' <<<"$bad")"
else
	log "sluice-worker needs $(tr '\n' ' ' <<<"$needed" | sed 's/ $//')"
fi

# The link line as the Makefile has it: a linker that drops unused libraries
# (--as-needed) would hide one from readelf.
if [ -f "$top_builddir/Makefile" ]; then
	# shellcheck disable=SC2016 # make expands these
	printf '%s\n\t@echo %s\n\t@echo %s\n' 'linkline-print:' \
		'$(src_sluice_worker_LDADD) $(src_sluice_worker_LDFLAGS) $(LDFLAGS) $(LIBS)' \
		'$(INIH_LIBS) $(CRYPT_LIBS)' >"$WORK/print.mk"
	if ! lines=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE" -s -C "$top_builddir" \
		-f Makefile -f "$WORK/print.mk" linkline-print 2>"$WORK/make.err"); then
		problem "cannot read the link line from the Makefile: $(cat "$WORK/make.err")"
	else
		line=$(sed -n 1p <<<"$lines")
		for word in $(sed -n 2p <<<"$lines") "${ARCHIVES[@]}"; do
			[[ " $line " = *" $word "* ]] && problem "sluice-worker's link line names $word"
		done
		log "sluice-worker's link line: $(tr -s ' ' <<<"$line")"
	fi
fi

[ $fail = 0 ] && log "PASS"
exit $fail
