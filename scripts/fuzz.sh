#!/usr/bin/env bash
# Run every fuzz target of the module, one at a time, for SECONDS each
# (default 10), and stop at the first failure.
#
#   scripts/fuzz.sh [SECONDS]
#
# Targets are discovered with `go test -list '^Fuzz' ./...`, so a new one is
# run without editing this script. A failing input is written by Go to the
# package's testdata/fuzz/<Target>/ directory: commit it, and it runs with
# the ordinary tests from then on. Needs nothing but Go (and bash).
set -euo pipefail

secs=${1:-10}
case $secs in
'' | *[!0-9]* | 0)
	echo "usage: $0 [SECONDS]   (a whole number of seconds per target, default 10)" >&2
	exit 2
	;;
esac
# Go minimizes every new interesting input for up to 60 s by default, and
# fuzzes nothing meanwhile; keep that to a fraction of the run.
mini=$((secs / 3))
((mini < 1)) && mini=1
((mini > 10)) && mini=10

cd "$(dirname "${BASH_SOURCE[0]}")/.."
module=$(go list -m)

# `go test -list` prints the matching names of each package, then
# "ok <import path> <time>".
listing=$(go test -list '^Fuzz' ./...) || {
	printf '%s\n' "$listing" >&2
	echo "fuzz.sh: listing the fuzz targets failed" >&2
	exit 1
}
targets=()
names=()
while IFS= read -r line; do
	case $line in
	Fuzz*) names+=("$line") ;;
	ok*)
		read -r _ pkg _ <<<"$line"
		dir=.
		[[ $pkg != "$module" ]] && dir=./${pkg#"$module"/}
		for name in ${names[@]+"${names[@]}"}; do
			targets+=("$dir $name")
		done
		names=()
		;;
	esac
done <<<"$listing"
if ((${#targets[@]} == 0)); then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

echo "fuzz.sh: ${#targets[@]} targets, ${secs}s each"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
for target in "${targets[@]}"; do
	read -r dir name <<<"$target"
	t0=$SECONDS
	# A run that fails without a failing input is the fuzzing engine's own
	# hiccup (on short runs Go may end with "context deadline exceeded"
	# while its workers wind down): try again, up to three times in all.
	passed=false
	for attempt in 1 2 3; do
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" -fuzzminimizetime "${mini}s" "$dir" >"$log" 2>&1; then
			passed=true
			break
		fi
		grep -qE 'Failing input written|seed corpus entry' "$log" && break
		echo "fuzz.sh: $name: the fuzzing engine failed without an input (attempt $attempt), retrying" >&2
	done
	if $passed; then
		execs=$(sed -n 's/^fuzz: elapsed: [^,]*, execs: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
		printf 'ok    %-10s %-24s %4ss  %s\n' "$dir" "$name" "$((SECONDS - t0))" "${execs:+$execs execs}"
	else
		printf 'FAIL  %-10s %-24s %4ss\n' "$dir" "$name" "$((SECONDS - t0))"
		grep -v '^fuzz: elapsed' "$log" >&2 || true
		echo "fuzz.sh: $name failed; rerun the failing input with: (cd $dir && go test -run '$name/<id>')" >&2
		exit 1
	fi
done
echo "fuzz.sh: all ${#targets[@]} targets passed in $((SECONDS - start))s"
