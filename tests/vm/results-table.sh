#!/usr/bin/env bash
# usage: results-table.sh [DIR] [--readme FILE]     (DIR: build/vm-results)
# Renders the rows the VM tests wrote (vm-test.sh --results DIR, one
# ARCH-SERIES.row each) as the README's Markdown table, followed by the total
# boot+test time. With --readme, replaces the lines between
# "<!-- vm-results begin -->" and "<!-- vm-results end -->" in FILE with it.
# Exits 1 if DIR has no rows.
set -euo pipefail

dir=build/vm-results readme=""
while [ $# -gt 0 ]; do
	case "$1" in
	--readme) readme=${2:?}; shift ;;
	*) dir=$1 ;;
	esac
	shift
done
if [ -n "$readme" ]; then
	grep -q '^<!-- vm-results begin -->$' "$readme" && grep -q '^<!-- vm-results end -->$' "$readme" ||
		{ echo "results-table: $readme has no vm-results markers" >&2; exit 1; }
	table=$("$0" "$dir")
	awk -v table="$table" '
		/^<!-- vm-results end -->$/ { print table; skip = 0 }
		!skip { print }
		/^<!-- vm-results begin -->$/ { skip = 1 }' "$readme" >"$readme.new"
	mv "$readme.new" "$readme"
	exit 0
fi
shopt -s nullglob
rows=("$dir"/*.row)
[ ${#rows[@]} -gt 0 ] || { echo "results-table: no rows in $dir (run ctest -L vm)" >&2; exit 1; }

# Architectures in a fixed order, kernels by version within each.
order() {
	case "$1" in
	amd64) echo 1 ;;
	arm64) echo 2 ;;
	s390x) echo 3 ;;
	mipsel) echo 4 ;;
	*) echo 9 ;;
	esac
}

# shellcheck disable=SC2016 # Markdown backquotes
echo '| Architecture | Kernel | Attach, BPF execution | Module contract | `--compare` exact at rest | `--bpf` exact | Agent binary | Boot+test |'
echo '|---|---|---|---|---|---|---|---|'
for f in "${rows[@]}"; do
	IFS=$'\t' read -r arch rel _ <"$f"
	printf '%s\t%s\t%s\n' "$(order "$arch")" "$rel" "$f"
done | sort -t$'\t' -k1,1n -k2,2V | cut -f3 | while read -r f; do
	IFS=$'\t' read -r arch rel attach module compare bpf binary secs exec <"$f"
	case "$arch" in
	amd64) name="x86-64" ;;
	arm64) name="arm64 (aarch64)" ;;
	s390x) name="s390x (64-bit big-endian)" ;;
	mipsel) name="mipsel (32-bit MIPS, little-endian)" ;;
	*) name=$arch ;;
	esac
	# "8/3576": packets/bytes each way, exactly as sent.
	exact() {
		case "$1" in
		*/*) echo "exact: ${1%%/*} packets, ${1#*/} bytes each way" ;;
		*) echo "**$1**" ;;
		esac
	}
	read -r bytes linkage <<<"$binary"
	size=$(awk -v b="$bytes" 'BEGIN {
		n = split(b, s, "/")
		printf "%.1f MiB", s[1] / 1048576
		if (n > 1) printf " (%.1f MiB stripped)", s[2] / 1048576
	}')
	[ "$module" = pass ] || module="**$module**"
	case "$attach" in
	tc) attach="legacy tc" ;;
	tcx) attach="tcx" ;;
	*) attach="**$attach**" ;;
	esac
	attach="$attach, ${exec:-?}"
	printf '| %s | %s | %s | %s | %s | %s | %s, %s | %s s |\n' "$name" "$rel" "$attach" "$module" \
		"$(exact "$compare")" "$(exact "$bpf")" "$linkage" "$size" "$secs"
done
awk -F'\t' '{ s += $8; n++ } END { printf "\nTotal boot+test time of %d VMs: %.0f s.\n", n, s }' "${rows[@]}"
