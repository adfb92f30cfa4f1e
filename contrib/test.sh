#!/bin/bash
# README command (b): installs what the build and the tests need, builds with -Werror,
# runs "make check" (unit and integration tests, as root with network namespaces) and
# the fuzz harnesses, and prints "tests: N passed, N failed, N skipped".
# Run as root on Debian 12 from anywhere: bash contrib/test.sh
# Environment: SKIP_APT=1 skips apt-get; FUZZ_SECONDS (default 20 under CI, else 30);
# SKIP_FUZZ=1 skips fuzzing; MAKEFLAGS as usual.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

say() { printf '\n==> %s\n' "$*"; }

PACKAGES=(build-essential autoconf automake libtool pkg-config libgnutls28-dev
	libev-dev libtalloc-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev check
	libcap-dev libinih-dev libcrypt-dev libxml2-dev libjansson-dev libsystemd-dev libedit-dev
	libmicrohttpd-dev uthash-dev libnftables-dev openconnect iproute2 iputils-ping procps gnutls-bin iperf3 jq clang
	libclang-rt-14-dev nftables mandoc python3 prometheus systemd e2fsprogs util-linux
	systemd-container)

if [ "${SKIP_APT:-0}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing packages"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q && apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" ||
			{
				echo "apt-get failed"
				exit 1
			}
	else
		echo "note: not root or no apt-get; assuming the packages are installed"
	fi
fi
[ "$(id -u)" = 0 ] || echo "note: not root; integration tests will be skipped"

say "building with -Werror"
autoreconf -fi && ./configure --enable-werror && make -j2 || {
	echo "build failed"
	exit 1
}

say "running make check"
make -j2 check VERBOSE=1
check_rc=$?

fuzz_rc=0
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
	say "fuzzing"
	if [ -n "${CI:-}" ]; then : "${FUZZ_SECONDS:=20}"; fi
	FUZZ_SECONDS=${FUZZ_SECONDS:-30} top_srcdir=$top top_builddir=$top \
		bash tests/fuzz/run.sh
	fuzz_rc=$?
fi

# Counted from automake's per-test result files, so unit and integration tests are
# both included.
count()
{
	find "$top/tests" -name '*.trs' -exec grep -h '^:test-result:' {} + 2>/dev/null |
		grep -cE "^:test-result: ($1)\$"
}
passed=$(count 'PASS|XFAIL')
failed=$(count 'FAIL|XPASS|ERROR')
skipped=$(count 'SKIP')
say "summary"
if [ "$failed" -gt 0 ]; then
	find "$top/tests" -name '*.trs' -exec grep -lE '^:test-result: (FAIL|XPASS|ERROR)' {} + |
		sed "s|^$top/||; s|\.trs\$|: failed (see its .log)|"
fi
[ "${SKIP_FUZZ:-0}" = 1 ] || echo "fuzz: $([ $fuzz_rc = 0 ] && echo passed || echo FAILED)"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$check_rc" = 0 ] && [ "$failed" = 0 ] && [ "$fuzz_rc" = 0 ]
