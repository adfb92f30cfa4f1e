#!/bin/bash
# Builds every libFuzzer harness with ASan+UBSan and runs each for FUZZ_SECONDS on a
# copy of its seed corpus. Fails if a harness is missing, does not build, or crashes.
#
# Environment: top_srcdir, top_builddir (default: the repository), FUZZ_SECONDS
# (default 30, 20 under CI), FUZZ_OUT (build and run directory; default a new
# directory under /tmp, removed unless something failed), CC (default clang).

# name | sources (@B@ = build tree, for generated files; others from the source tree) |
# pkg-config modules, and -lNAME for libraries without one (libev)
HARNESSES=(
	"config    | src/common/config.c src/common/config_schema.c | talloc inih gnutls"
	"user_config | src/common/config.c src/common/config_schema.c | talloc inih gnutls"
	"http      | src/worker/http.c                             | talloc"
	"cstp      | src/worker/cstp.c                             |"
	"text      | src/common/text.c                             |"
	"auth_body | src/worker/auth_body.c src/worker/auth_xml.c  | talloc libxml-2.0"
	"passwd    | src/common/passwd.c                           | talloc libcrypt"
	"ipc       | src/ipc/ipc.c @B@/src/ipc/*.pb-c.c            | talloc libprotobuf-c"
	"dtls_hello | src/main/dtls_hello.c                         |"
	"dtls_frame | src/worker/dtls_frame.c                       |"
	"ctl       | src/main/ctl.c src/main/ctl_users.c src/main/ctl_bans.c src/main/ctl_sessions.c src/main/tun.c src/common/netaddr.c src/ipc/ipc.c @B@/src/ipc/*.pb-c.c | talloc libprotobuf-c gnutls -lev"
)

set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
if [ -n "${CI:-}" ]; then
	: "${FUZZ_SECONDS:=20}"
else
	: "${FUZZ_SECONDS:=30}"
fi
: "${CC:=clang}"
command -v "$CC" >/dev/null || {
	echo "fuzz: $CC not found (Debian: apt-get install clang libclang-rt-14-dev)"
	exit 1
}
out=${FUZZ_OUT:-$(mktemp -d /tmp/sluice-fuzz.XXXXXX)}
mkdir -p "$out"

CFLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-I"$top_builddir" -I"$top_srcdir/src" -I"$top_builddir/src" -I"$top_srcdir")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

trim() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$1"; }

# run_one NAME SOURCES MODULES: builds and runs one harness; returns non-zero on any
# problem and says which.
run_one()
{
	local name=$1 srcs=$2 mods=$3 harness s f files=() flags corpus
	harness=$top_srcdir/tests/fuzz/fuzz_$name.c
	[ -f "$harness" ] || {
		echo "fuzz $name: MISSING harness tests/fuzz/fuzz_$name.c"
		return 1
	}
	for s in $srcs; do
		s=${s/#@B@/$top_builddir}
		[[ $s = /* ]] || s=$top_srcdir/$s
		# The pattern may expand to several generated files.
		for f in $s; do
			[ -f "$f" ] || {
				echo "fuzz $name: MISSING source $f"
				return 1
			}
			files+=("$f")
		done
	done
	flags=()
	for f in $mods; do
		[[ $f = -l* ]] && flags+=("$f")
	done
	mods=$(tr ' ' '\n' <<<"$mods" | grep -v -- '^-l' | tr '\n' ' ')
	if [ -n "$(trim "$mods")" ]; then
		# shellcheck disable=SC2086 # one word per module
		flags+=($(pkg-config --cflags --libs $mods)) || {
			echo "fuzz $name: pkg-config cannot find: $mods"
			return 1
		}
	fi
	if ! "$CC" "${CFLAGS[@]}" "$harness" "${files[@]}" "${flags[@]}" \
		-o "$out/fuzz_$name" >"$out/$name.build.log" 2>&1; then
		echo "fuzz $name: BUILD FAILED"
		cat "$out/$name.build.log"
		return 1
	fi
	corpus=$out/corpus-$name
	mkdir -p "$corpus" "$out/artifacts-$name"
	if [ -d "$top_srcdir/tests/fuzz/corpus/$name" ]; then
		cp -r "$top_srcdir/tests/fuzz/corpus/$name/." "$corpus/"
	else
		echo "fuzz $name: note: no seed corpus in tests/fuzz/corpus/$name"
	fi
	if ! timeout $((FUZZ_SECONDS + 120)) "$out/fuzz_$name" -max_total_time="$FUZZ_SECONDS" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts-$name/" "$corpus" >"$out/$name.run.log" 2>&1; then
		echo "fuzz $name: FAILED (artifacts in $out/artifacts-$name/)"
		grep -E -m 20 'ERROR|SUMMARY|runtime error|Test unit written' "$out/$name.run.log"
		return 1
	fi
	echo "fuzz $name: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
		"$out/$name.run.log" | awk '{ print $2 }') runs in ${FUZZ_SECONDS}s," \
		"corpus $(find "$corpus" -type f | wc -l) inputs"
}

failed=0
for row in "${HARNESSES[@]}"; do
	IFS='|' read -r name srcs mods <<<"$row"
	run_one "$(trim "$name")" "$(trim "$srcs")" "$(trim "$mods")" || failed=$((failed + 1))
done
echo "fuzz: ${#HARNESSES[@]} harnesses, $failed failed (${FUZZ_SECONDS}s each)"
if [ $failed -gt 0 ]; then
	echo "fuzz: logs kept in $out"
	exit 1
fi
[ -z "${FUZZ_OUT:-}" ] && rm -rf "$out"
exit 0
