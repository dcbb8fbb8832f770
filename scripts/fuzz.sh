#!/usr/bin/env bash
# Runs every Go fuzz target in ./pkg, one at a time (go test fuzzes one
# target per package per invocation), each for FUZZTIME. Targets are found
# by grepping `func FuzzX(` in *_test.go, so a new one is picked up without
# editing this script. The seed corpora are testdata/fuzz/FuzzX/ in each
# package; a crash writes its input there too, ready to commit as a
# regression.
#
# Usage: scripts/fuzz.sh [-l]      (-l: list the targets and exit)
# Env:   FUZZTIME (default 10m), FUZZ_NICE (default 10), GO (default go)
# Prints one line per target and a summary; exits non-zero if any target fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fuzztime=${FUZZTIME:-10m}
go=${GO:-go}

# "<package dir> <target>" per line, sorted, e.g. "./pkg/trust FuzzParsePin".
targets=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' pkg | while read -r file; do
	grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed "s|^func |./$(dirname "$file") |"
done | sort)

if [[ "${1:-}" == "-l" ]]; then
	echo "$targets"
	exit 0
fi

n=$(wc -l <<<"$targets")
echo "fuzz: $n targets, $fuzztime each, $(nproc) CPUs, $($go version)" >&2
failed=()
start=$(date +%s)
while read -r pkg target; do
	t0=$(date +%s)
	if nice -n "${FUZZ_NICE:-10}" "$go" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >"${TMPDIR:-/tmp}/fuzz-$target.log" 2>&1; then
		status=ok
	else
		status=FAIL
		failed+=("$pkg $target")
		tail -n 40 "${TMPDIR:-/tmp}/fuzz-$target.log" >&2
	fi
	execs=$(grep -oE 'execs: [0-9]+' "${TMPDIR:-/tmp}/fuzz-$target.log" | tail -n 1 | cut -d' ' -f2)
	printf '%-4s %-28s %-32s %5ss %10s execs\n' "$status" "$target" "$pkg" "$(($(date +%s) - t0))" "${execs:-?}"
done <<<"$targets"
echo "fuzz: $n targets in $(($(date +%s) - start))s, ${#failed[@]} failed" >&2
if ((${#failed[@]})); then
	printf 'failed: %s\n' "${failed[@]}" >&2
	echo "the failing input is in the package's testdata/fuzz/<target>/; rerun it with go test -run '<target>/<file>'" >&2
	exit 1
fi
