#!/usr/bin/env bash
# Runs every Go fuzz target in ./pkg, one at a time (go test fuzzes one
# target per package per invocation), each for FUZZTIME. Targets are found
# by grepping `func FuzzX(` in *_test.go, so a new one is picked up without
# editing this script. The seed corpora are testdata/fuzz/FuzzX/ in each
# package; a crash writes its input there too, ready to commit as a
# regression.
#
# Usage: scripts/fuzz.sh [-l]      (-l: list the targets and exit)
# Env:   FUZZTIME (default 10m), FUZZ_MATCH (regexp on "<pkg> <target>",
#        default all), FUZZ_NICE (default 10), GO (default go)
# Prints one line per target and a summary; exits non-zero if any target
# fails. "flake" marks a target Go's coordinator stopped with "context
# deadline exceeded" and no failing input (see below); it does not fail.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fuzztime=${FUZZTIME:-10m}
go=${GO:-go}

# "<package dir> <target>" per line, sorted, e.g. "./pkg/trust FuzzParsePin".
targets=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' pkg | while read -r file; do
	grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s|^func |./$(dirname "$file") |"
done | sort | grep -E -- "${FUZZ_MATCH:-.}")

if [[ "${1:-}" == "-l" ]]; then
	echo "$targets"
	exit 0
fi

n=$(wc -l <<<"$targets")
echo "fuzz: $n targets, $fuzztime each, $(nproc) CPUs, $($go version)" >&2
failed=() flaked=()
start=$(date +%s)
while read -r pkg target; do
	t0=$(date +%s)
	log="${TMPDIR:-/tmp}/fuzz-$target.log"
	corpus="$pkg/testdata/fuzz/$target"
	before=$(ls "$corpus" 2>/dev/null || true)
	if nice -n "${FUZZ_NICE:-10}" "$go" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
		status=ok
	elif [[ "$(ls "$corpus" 2>/dev/null || true)" == "$before" ]] && grep -q 'context deadline exceeded' "$log" &&
		"$go" test -count=1 -run "^${target}\$" "$pkg" >>"$log" 2>&1; then
		# Go's fuzz coordinator can fail a target at the -fuzztime deadline
		# on a loaded machine without any failing input (go.dev/issue/75804,
		# fixed in go1.27). No crasher was written and the corpus replays
		# clean, so this is not a finding; it is reported, not failed.
		status=flake
		flaked+=("$pkg $target")
	else
		status=FAIL
		failed+=("$pkg $target")
		tail -n 40 "$log" >&2
	fi
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	printf '%-5s %-24s %-28s %5ss %10s execs\n' "$status" "$target" "$pkg" "$(($(date +%s) - t0))" "${execs:-?}"
done <<<"$targets"
echo "fuzz: $n targets in $(($(date +%s) - start))s, ${#failed[@]} failed, ${#flaked[@]} stopped by the go.dev/issue/75804 deadline race" >&2
if ((${#failed[@]})); then
	printf 'failed: %s\n' "${failed[@]}" >&2
	echo "the failing input is in the package's testdata/fuzz/<target>/; rerun it with go test -run '<target>/<file>'" >&2
	exit 1
fi
