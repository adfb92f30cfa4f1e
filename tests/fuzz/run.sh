#!/bin/bash
# Builds every libFuzzer harness with ASan+UBSan and runs each for FUZZ_SECONDS on a
# copy of its seed corpus. Fails if a harness is missing, does not build, or crashes.
#
# The harnesses link the same per-role archives as sluiced, sluice-worker and the unit
# tests (src/libsluice-*.a), built once more with clang and the sanitizers in a tree of
# their own under FUZZ_OUT: a copy of the sources, configured there, of which only the
# archives are made. (A copy rather than a VPATH build: configure refuses to build
# out of a source tree that is configured in place, as contrib/test.sh leaves it.)
#
# Environment: top_srcdir (default: the repository), FUZZ_SECONDS (default 30, 20
# under CI), FUZZ_OUT (build and run directory; default a new directory under /tmp,
# removed unless something failed), FUZZ_ONLY (names of harnesses, separated by spaces:
# only these are built and run; default all), CC (default clang). top_builddir is
# accepted and not needed: nothing is taken from the main build.

# name | archives of the fuzz build, a caller before what it calls (libsluice-NAME.a) |
# pkg-config modules, and -lNAME for libraries without one (libev) | libFuzzer options
# A harness may replace a function of an archive with a stand-in of its own (what
# touches the system: TUN devices, nftables, scripts): the harness is linked first and
# with -z muldefs, so its definition is the one used.
HARNESSES=(
	"config      | config common          | talloc inih gnutls                 |"
	"user_config | config common          | talloc inih gnutls                 |"
	"http        | worker                 | talloc                             | -max_len=70000"
	"cstp        | worker common          |                                    |"
	"text        | common                 |                                    |"
	"netaddr     | common                 |                                    |"
	"auth_body   | worker ipc common      | talloc libxml-2.0 libprotobuf-c    |"
	"passwd      | passwd                 | talloc libcrypt                    |"
	"certs_state | certs common           | talloc                             |"
	"otpfile     | passwd common          | talloc                             |"
	"dae         | sec                    | gnutls                             |"
	"ipc         | ipc                    | talloc libprotobuf-c               |"
	"dtls_hello  | main                   |                                    |"
	"proxy_proto | main                   |                                    |"
	"ports       | common                 |                                    |"
	"dtls_frame  | worker                 |                                    |"
	"lzs         | worker                 |                                    | -max_len=20000"
	"compress    | worker                 | liblz4                             |"
	"manage_api  | manage common          | talloc jansson gnutls              |"
	"manage_access | common               | talloc gnutls                      |"
	"ctl         | main config passwd common ipc | talloc libprotobuf-c gnutls inih libcrypt libnftables jansson libsystemd libmicrohttpd -lev -lpthread |"
	"sec_worker  | sec passwd config common ipc | talloc libprotobuf-c gnutls inih libcrypt libcap libseccomp liboath radcli ldap lber -lev -lpam |"
	"sec_helper  | sec passwd config common ipc | talloc libprotobuf-c gnutls inih libcrypt libcap libseccomp liboath radcli ldap lber -lev -lpam |"
	"ldap_values | sec common             | talloc ldap lber                   |"
	"main_worker | main config passwd common ipc | talloc libprotobuf-c gnutls inih libcrypt libnftables jansson libsystemd libmicrohttpd -lev -lpthread |"
)

set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
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
build=$out/build

# The archives' objects are instrumented for coverage and the sanitizers; the fuzzing
# engine (and its main()) comes in when a harness is linked.
# shellcheck disable=SC2054 # commas inside one flag
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
ARCHIVE_CFLAGS="-g -O1 -fsanitize=fuzzer-no-link ${SAN[*]}"
CFLAGS=(-g -O1 -fsanitize=fuzzer "${SAN[@]}" -I"$build" -I"$build/src")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

trim() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$1"; }

if [ -n "${FUZZ_ONLY:-}" ]; then
	kept=()
	for row in "${HARNESSES[@]}"; do
		[[ " $FUZZ_ONLY " = *" $(trim "${row%%|*}") "* ]] && kept+=("$row")
	done
	[ ${#kept[@]} -gt 0 ] || {
		echo "fuzz: FUZZ_ONLY names no harness: $FUZZ_ONLY"
		exit 1
	}
	HARNESSES=("${kept[@]}")
fi

# build_archives NAME...: copies the sources (without generated or built files) to
# $build, configures them with $CC and makes src/libsluice-NAME.a for each NAME.
build_archives()
{
	local a f targets=() protos=()
	rm -rf "$build"
	mkdir -p "$build"
	(cd "$top_srcdir" && find configure configure.ac Makefile.am Makefile.in aclocal.m4 \
		config.h.in build-aux m4 src -type f \( ! -path 'src/*' -o -name '*.[ch]' \
		-o -name '*.proto' -o -name '*.awk' \) ! -name '*.pb-c.[ch]' ! -name '*.routes.h' \
		-print0 2>/dev/null |
		tar -cf - --null -T -) | tar -C "$build" -xf - || {
		echo "fuzz: cannot copy the sources from $top_srcdir"
		return 1
	}
	if [ ! -x "$build/configure" ]; then
		(cd "$build" && autoreconf -fi) >"$out/build.log" 2>&1 || {
			echo "fuzz: autoreconf FAILED (log: $out/build.log)"
			return 1
		}
	fi
	(cd "$build" && ./configure -q --disable-werror --disable-dependency-tracking \
		CC="$CC" CFLAGS="$ARCHIVE_CFLAGS") >>"$out/build.log" 2>&1 || {
		echo "fuzz: configure with $CC FAILED"
		tail -20 "$out/build.log"
		return 1
	}
	for a in "$@"; do
		targets+=("src/libsluice-$a.a")
	done
	# Automake makes the generated protobuf-c files and routes first only for "all" and
	# "check".
	for f in "$build"/src/ipc/*.proto; do
		protos+=("src/ipc/$(basename "$f" .proto).pb-c.h" "src/ipc/$(basename "$f" .proto).routes.h")
	done
	if ! make -C "$build" -j"$(nproc)" "${protos[@]}" >>"$out/build.log" 2>&1 ||
		! make -C "$build" -j"$(nproc)" "${targets[@]}" >>"$out/build.log" 2>&1; then
		echo "fuzz: building ${targets[*]} with $CC FAILED"
		grep -E -m 20 'error|Error' "$out/build.log"
		return 1
	fi
}

# run_one NAME ARCHIVES MODULES OPTIONS: builds and runs one harness; returns non-zero
# on any problem and says which.
run_one()
{
	local name=$1 archives=$2 mods=$3 opts=$4 harness a f files=() flags corpus
	harness=$top_srcdir/tests/fuzz/fuzz_$name.c
	[ -f "$harness" ] || {
		echo "fuzz $name: MISSING harness tests/fuzz/fuzz_$name.c"
		return 1
	}
	for a in $archives; do
		f=$build/src/libsluice-$a.a
		[ -f "$f" ] || {
			echo "fuzz $name: MISSING archive $f"
			return 1
		}
		files+=("$f")
	done
	flags=()
	for f in $mods; do
		[[ $f = -l* ]] && flags+=("$f")
	done
	mods=$(tr ' ' '\n' <<<"$mods" | grep -v -- '^-l' | tr '\n' ' ')
	if [ -n "$(trim "$mods")" ]; then
		# shellcheck disable=SC2086,SC2207 # one word per module and per flag
		flags+=($(pkg-config --cflags --libs $mods)) || {
			echo "fuzz $name: pkg-config cannot find: $mods"
			return 1
		}
	fi
	if ! "$CC" "${CFLAGS[@]}" "$harness" "${files[@]}" "${flags[@]}" -Wl,-z,muldefs \
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
	# shellcheck disable=SC2086 # one word per option
	if ! timeout $((FUZZ_SECONDS + 120)) "$out/fuzz_$name" -max_total_time="$FUZZ_SECONDS" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $opts \
		-artifact_prefix="$out/artifacts-$name/" "$corpus" >"$out/$name.run.log" 2>&1; then
		echo "fuzz $name: FAILED (artifacts in $out/artifacts-$name/)"
		grep -E -m 20 'ERROR|SUMMARY|runtime error|Test unit written' "$out/$name.run.log"
		return 1
	fi
	echo "fuzz $name: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
		"$out/$name.run.log" | awk '{ print $2 }') runs in ${FUZZ_SECONDS}s," \
		"corpus $(find "$corpus" -type f | wc -l) inputs"
}

needed=$(for row in "${HARNESSES[@]}"; do cut -d'|' -f2 <<<"$row"; done | tr ' ' '\n' |
	grep . | sort -u)
# shellcheck disable=SC2086 # one word per archive
if ! build_archives $needed; then
	echo "fuzz: logs kept in $out"
	exit 1
fi
failed=0
for row in "${HARNESSES[@]}"; do
	IFS='|' read -r name archives mods opts <<<"$row"
	run_one "$(trim "$name")" "$(trim "$archives")" "$(trim "$mods")" "$(trim "$opts")" ||
		failed=$((failed + 1))
done
echo "fuzz: ${#HARNESSES[@]} harnesses, $failed failed (${FUZZ_SECONDS}s each)"
if [ $failed -gt 0 ]; then
	echo "fuzz: logs kept in $out"
	exit 1
fi
[ -z "${FUZZ_OUT:-}" ] && rm -rf "$out"
exit 0
