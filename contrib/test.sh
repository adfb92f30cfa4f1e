#!/bin/bash
# README command (b): installs what the build and the tests need, builds with -Werror,
# runs "make check" (unit and integration tests, as root with network namespaces), the
# fuzz harnesses, and "make check" once more in a build with ASan and UBSan
# (--enable-sanitizers, in build-san/), and prints "tests: N passed, N failed, N
# skipped" for the first and "sanitizers: ..." for the second.
# Run as root on Debian 12 from anywhere: bash contrib/test.sh
# Environment: SKIP_APT=1 skips apt-get; FUZZ_SECONDS (default 20 under CI, else 30);
# SKIP_FUZZ=1 skips fuzzing; SKIP_SANITIZE=1 skips the sanitizer pass; MAKEFLAGS as
# usual.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

say() { printf '\n==> %s\n' "$*"; }

PACKAGES=(build-essential autoconf automake libtool pkg-config libgnutls28-dev
	libev-dev libtalloc-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev check
	libcap-dev libinih-dev libcrypt-dev liboath-dev oathtool libxml2-dev libjansson-dev libsystemd-dev libedit-dev
	libmicrohttpd-dev uthash-dev libnftables-dev liblz4-dev openconnect iproute2 iputils-ping procps gnutls-bin iperf3 jq clang
	libclang-rt-14-dev nftables mandoc python3 prometheus systemd e2fsprogs util-linux
	systemd-container softhsm2 p11-kit openssl faketime libpam0g-dev libpam-modules libpam-oath passwd
	libradcli-dev freeradius freeradius-utils libldap-dev slapd ldap-utils haproxy
	libsnmp-dev snmp chromium)

# Packages whose services must not run on the test machine: ocserv and its tools are
# what the tests compare sluice with (ocpasswd files, Debian's shipped ocserv.conf), and
# its package would start the server; snmpd is the AgentX master that test-snmp.sh
# starts itself, with its own configuration, and its package would start the system's. invoke-rc.d is told not to (policy-rc.d, unless
# the machine has one already) while they install, and their units stay disabled.
REFERENCE=(ocserv snmpd)
install_without_starting()
{
	local policy=/usr/sbin/policy-rc.d own=0 rc u
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own=1
	fi
	apt-get install -y -q --no-install-recommends "$@"
	rc=$?
	[ "$own" = 1 ] && rm -f "$policy"
	if [ -d /run/systemd/system ]; then
		for u in "$@"; do
			systemctl disable --now "$u.service" "$u.socket" >/dev/null 2>&1
		done
	fi
	return $rc
}

if [ "${SKIP_APT:-0}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing packages"
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get update -q && apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" &&
			install_without_starting "${REFERENCE[@]}"; } ||
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

# The sanitizer pass builds a copy of the sources: automake refuses a second build
# directory beside a configured source tree, and the first pass configured this one.
# The copy is the tree as it is now, edits and new files included, build output not.
copy_sources()
{
	local dst=$1
	rm -rf "$dst" && mkdir -p "$dst" || return 1
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$top" ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -f "$top/$f" ] && printf '%s\0' "$f"
			done | tar -C "$top" --null --no-recursion -T - -cf - | tar -C "$dst" -xf -
	else
		tar -C "$top" --exclude=./build-san -cf - . | tar -C "$dst" -xf - &&
			{ [ ! -f "$dst/Makefile" ] || make -C "$dst" distclean >/dev/null; }
	fi
}

san_rc=0
san_built=yes
SAN=$top/build-san
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
	say "building with ASan and UBSan in build-san/"
	san_start=$(date +%s)
	if copy_sources "$SAN" && cd "$SAN" && autoreconf -fi &&
		./configure --enable-sanitizers --enable-werror && make -j2; then
		say "running make check with ASan and UBSan"
		make -j2 check VERBOSE=1
		san_rc=$?
	else
		echo "sanitizer build failed"
		san_built=no
		san_rc=1
	fi
	cd "$top" || exit 1
	san_seconds=$(($(date +%s) - san_start))
fi

# Counted from automake's per-test result files, so unit and integration tests are
# both included. count DIR RESULTS
count()
{
	find "$1/tests" -name '*.trs' -exec grep -h '^:test-result:' {} + 2>/dev/null |
		grep -cE "^:test-result: ($2)\$"
}
# failed_tests DIR: one line per test that failed.
failed_tests()
{
	find "$1/tests" -name '*.trs' -exec grep -lE '^:test-result: (FAIL|XPASS|ERROR)' {} + |
		sed "s|^$top/||; s|\.trs\$|: failed (see its .log)|"
}
passed=$(count "$top" 'PASS|XFAIL')
failed=$(count "$top" 'FAIL|XPASS|ERROR')
skipped=$(count "$top" 'SKIP')
say "summary"
[ "$failed" = 0 ] || failed_tests "$top"
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
	san_passed=$(count "$SAN" 'PASS|XFAIL')
	san_failed=$(count "$SAN" 'FAIL|XPASS|ERROR')
	san_skipped=$(count "$SAN" 'SKIP')
	[ "$san_failed" = 0 ] || failed_tests "$SAN"
	# Reports that no test turned into a failure of its own, e.g. from a tool whose
	# output a test printed but whose exit status it did not check.
	san_reports=$(grep -rlE --include='*.log' \
		'^==[0-9]+==(ERROR: )?[A-Za-z]+Sanitizer|: runtime error: ' "$SAN/tests" 2>/dev/null |
		sed "s|^$top/||")
	[ -z "$san_reports" ] || while read -r f; do
		echo "$f: holds a sanitizer report"
	done <<<"$san_reports"
fi
[ "${SKIP_FUZZ:-0}" = 1 ] || echo "fuzz: $([ $fuzz_rc = 0 ] && echo passed || echo FAILED)"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
	if [ $san_built = yes ]; then
		echo "sanitizers (ASan+UBSan build, ${san_seconds}s): $san_passed passed," \
			"$san_failed failed, $san_skipped skipped," \
			"$(grep -c . <<<"$san_reports") logs with reports"
	else
		echo "sanitizers: the ASan+UBSan build FAILED"
	fi
	[ "$san_rc" = 0 ] && [ "$san_failed" = 0 ] && [ -z "$san_reports" ] || san_rc=1
fi
[ "$check_rc" = 0 ] && [ "$failed" = 0 ] && [ "$fuzz_rc" = 0 ] && [ "$san_rc" = 0 ]
