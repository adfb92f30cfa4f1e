#!/bin/bash
# Where the memory of a running sluiced goes, per mapping: reads /proc/PID/smaps of its
# workers (and, in the summary, of main, sec and the worker template) and prints
#  - one summary line per role: processes, PSS, Private_Dirty, Anonymous (KiB);
#  - the workers' mappings, summed over every worker and per worker, top TOP by PSS and
#    top TOP by Private_Dirty.
# A mapping is named by its file (or [heap], [stack], ...) and its permissions; an
# anonymous mapping without a name is "[anon] after NAME", NAME being the mapping just
# below it (a library's .bss follows its data segment; glibc's malloc arenas and
# mmap'd chunks follow whatever the kernel put them after). With RAW=1 every mapping's
# line also shows its size (Size:, KiB) so mappings of one name stay apart.
#
# Usage: worker-smaps.sh PID [TOP]   PID: sluiced's main process (or any process whose
# descendants are the workers). TOP: 15. A benchmark tool, not part of make check: the
# numbers move with what else maps the same libraries (PSS) and with the load; the
# anonymous and Private_Dirty columns are this tree's own.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
main=${1:?usage: worker-smaps.sh PID [TOP]}
top=${2:-15}
[ -r "/proc/$main/smaps" ] || {
	echo "worker-smaps: cannot read /proc/$main/smaps (not running, or not root?)" >&2
	exit 2
}

tree()
{
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		echo "$c"
		tree "$c"
	done
}

# role PID: worker, template, sec or main (by command line).
role()
{
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	case $cmd in
	"sluice-worker --template"*) echo template ;;
	sluice-worker*) echo worker ;;
	*) [ "$1" = "$main" ] && echo main || echo sec ;;
	esac
}

declare -A pids=()
for p in "$main" $(tree "$main"); do
	r=$(role "$p") || continue
	pids[$r]+="$p "
done

# smaps_sum PIDS...: one line per process and mapping key: "KEY<TAB>PSS<TAB>DIRTY<TAB>ANON<TAB>RSS"
# (KiB), keys as described above.
smaps_sum()
{
	local p
	for p in "$@"; do
		awk -v raw="${RAW:-0}" '
		function flush() {
			if (key != "")
				printf "%s\t%d\t%d\t%d\t%d\n", key, pss, dirty, anon, rss
		}
		/^[0-9a-f]+-[0-9a-f]+ / {
			flush()
			name = (NF >= 6) ? $6 : ""
			for (i = 7; i <= NF; i++) name = name " " $i
			sub(/.*\//, "", name)
			if (name == "") name = "[anon] after " prev
			else prev = name
			key = name " " $2
			pss = dirty = anon = rss = 0
			next
		}
		$1 == "Size:" && raw == 1 { key = key " (" $2 " KiB)" }
		$1 == "Pss:" { pss = $2 }
		$1 == "Rss:" { rss = $2 }
		$1 == "Private_Dirty:" { dirty = $2 }
		$1 == "Anonymous:" { anon = $2 }
		END { flush() }' "/proc/$p/smaps" 2>/dev/null
	done
}

# rollup PIDS...: "N PSS DIRTY ANON" summed over the processes.
rollup()
{
	local n=$#
	smaps_sum "$@" | awk -F'\t' -v n="$n" '
		{ pss += $2; dirty += $3; anon += $4 }
		END { printf "%d %d %d %d\n", n, pss, dirty, anon }'
}

printf '%-9s %6s %10s %14s %10s %16s\n' role procs "PSS KiB" "Private_Dirty" "Anonymous" "PSS per process"
for r in main sec template worker; do
	[ -n "${pids[$r]:-}" ] || continue
	# shellcheck disable=SC2086 # one PID a word
	read -r n pss dirty anon <<<"$(rollup ${pids[$r]})"
	printf '%-9s %6d %10d %14d %10d %16d\n' "$r" "$n" "$pss" "$dirty" "$anon" $((pss / n))
done

[ -n "${pids[worker]:-}" ] || {
	echo
	echo "no workers"
	exit 0
}
# shellcheck disable=SC2086
nw=$(wc -w <<<"${pids[worker]}")
# shellcheck disable=SC2086
smaps_sum ${pids[worker]} | awk -F'\t' '
	{ pss[$1] += $2; dirty[$1] += $3; anon[$1] += $4; rss[$1] += $5 }
	END { for (k in pss) printf "%s\t%d\t%d\t%d\t%d\n", k, pss[k], dirty[k], anon[k], rss[k] }' \
	>"${TMPDIR:-/tmp}/worker-smaps.$$"
trap 'rm -f "${TMPDIR:-/tmp}/worker-smaps.$$"' EXIT

table()
{
	local col=$1 title=$2
	echo
	echo "$nw workers, top $top mappings by $title (KiB; per worker = sum / $nw):"
	printf '%-52s %9s %9s %9s %9s %9s %9s\n' mapping PSS "/worker" Priv_Dirty "/worker" Anon "/worker"
	sort -t$'\t' -k"$col","$col"nr "${TMPDIR:-/tmp}/worker-smaps.$$" | head -n "$top" |
		awk -F'\t' -v n="$nw" '{ printf "%-52s %9d %9.1f %9d %9.1f %9d %9.1f\n",
			substr($1, 1, 52), $2, $2 / n, $3, $3 / n, $4, $4 / n }'
}
table 2 PSS
table 3 Private_Dirty
awk -F'\t' -v n="$nw" '{ p += $2; d += $3; a += $4 }
	END { printf "\nall worker mappings: PSS %d (%.1f per worker), Private_Dirty %d (%.1f), Anonymous %d (%.1f)\n",
		p, p / n, d, d / n, a, a / n }' "${TMPDIR:-/tmp}/worker-smaps.$$"
