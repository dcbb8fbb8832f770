#!/usr/bin/env bash
# Runs every unit test binary of the module, built for windows/amd64, under
# wine 8.0 (Debian's wine64), each from its package directory as go test
# would. Prints "windows: N passed, N failed" last (N counts top-level tests
# from -test.v) and exits non-zero if any failed. Real under wine: Windows
# error codes, paths, %LOCALAPPDATA%, Credential Manager (wincred), file
# locks and renames between processes, and kubectl-securekapi.exe's exec
# path end to end (TestExecPathOnWindows). Not real: ACLs are kept only as
# Unix mode bits, never enforced; symlinks, Ctrl-C; tests that need those
# skip on Windows, saying why.
#
# Two wine 8.0 gaps are bridged here, for the tests only; release binaries
# are built without either:
#  - Go >= 1.22 calls ProcessPrng from bcryptprimitives.dll at start, which
#    wine 8.0 lacks: scripts/windows/bcryptprimitives.def builds a DLL that
#    forwards it to advapi32.SystemFunction036 (RtlGenRandom), copied into
#    the private prefix's system32.
#  - wine answers NtSetInformationFile(FileDispositionInformationEx) with
#    STATUS_NOT_IMPLEMENTED, which Go does not take as "fall back", so
#    os.RemoveAll (every t.TempDir cleanup) fails: the test binaries are
#    built with a -overlay of $GOROOT/src/internal/syscall/windows/at_windows.go
#    that also falls back on that status. The overlay stays at one path in the
#    cache, as the build cache keys on it.
#
# Usage: scripts/windows-tests.sh [-run REGEXP] [PACKAGE...]   (default ./...)
# Env:   SECUREKAPI_WINE_CACHE (default ~/.cache/securekapi/windows): the wine
#        prefix, the shim DLL and the overlay, kept for warm runs; GO.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go=${GO:-go}
cache=${SECUREKAPI_WINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/securekapi/windows}
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver

run_re=""
if [ "${1:-}" = "-run" ]; then run_re=$2; shift 2; fi
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)

log() { printf '=== windows: %s\n' "$*" >&2; }
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

# 1. wine64 and the mingw binutils for the shim, when missing.
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in wine64 binutils-mingw-w64-x86-64; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "apt-get install ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$cache"

# 2. The shim DLL, rebuilt when its sources change.
shim=$cache/bcryptprimitives.dll
src=scripts/windows
if [ ! -f "$shim" ] || [ "$src/bcryptprimitives.def" -nt "$shim" ] || [ "$src/dllmain.s" -nt "$shim" ]; then
	x86_64-w64-mingw32-as -o "$cache/dllmain.o" "$src/dllmain.s"
	x86_64-w64-mingw32-ld --dll -e DllMain -o "$shim.tmp" "$cache/dllmain.o" "$src/bcryptprimitives.def"
	mv "$shim.tmp" "$shim"
fi

# 3. The overlay, from this Go's own at_windows.go; rewritten only when it
# differs, so its path and content (the build cache's key) stay the same.
goroot=$($go env GOROOT)
overlay_dir=$cache/overlay
mkdir -p "$overlay_dir"
at=$goroot/src/internal/syscall/windows/at_windows.go
sed 's|^\([[:space:]]*\)STATUS_NOT_SUPPORTED:|\1STATUS_NOT_SUPPORTED, NTStatus(0xC0000002) /* STATUS_NOT_IMPLEMENTED: wine 8.0 */:|' "$at" >"$overlay_dir/at_windows.go.new"
if ! grep -q 'NTStatus(0xC0000002)' "$overlay_dir/at_windows.go.new"; then
	echo "windows-tests: $at has changed shape; update the overlay's sed (STATUS_NOT_SUPPORTED: case in deleteat)" >&2
	exit 1
fi
if cmp -s "$overlay_dir/at_windows.go.new" "$overlay_dir/at_windows.go"; then
	rm "$overlay_dir/at_windows.go.new"
else
	mv "$overlay_dir/at_windows.go.new" "$overlay_dir/at_windows.go"
fi
printf '{"Replace":{"%s":"%s"}}\n' "$at" "$overlay_dir/at_windows.go" >"$overlay_dir/overlay.json.new"
if cmp -s "$overlay_dir/overlay.json.new" "$overlay_dir/overlay.json"; then
	rm "$overlay_dir/overlay.json.new"
else
	mv "$overlay_dir/overlay.json.new" "$overlay_dir/overlay.json"
fi

# 4. A private prefix, made once per cache; only its own wineserver is stopped.
export WINEPREFIX=$cache/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
stop_wine() { "$wineserver" -k 2>/dev/null || true; }
trap stop_wine EXIT
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	log "wineboot --init $WINEPREFIX"
	rm -rf "$WINEPREFIX"
	"$wine" wineboot --init >/dev/null 2>&1
	"$wineserver" -w
fi
cp "$shim" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
log "wine ready ($(elapsed))"

# 5. Both programs as released (release ldflags, no overlay): the exec
# path test in cmd/kubectl-securekapi (TestExecPathOnWindows) runs
# kubectl-securekapi.exe credential as kubectl would, with the token in
# Credential Manager, and checks it answers for the pinned CA and refuses
# another. wine reaches the Unix file system as drive Z:.
bin=$cache/bin
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $go build -trimpath -ldflags "$(scripts/ldflags.sh windows-test "$(git rev-parse HEAD 2>/dev/null || echo unknown)")" \
	-o "$bin/" ./cmd/kubectl-securekapi ./cmd/securekapi
export SECUREKAPI_TEST_WINDOWS_EXE="Z:$bin/kubectl-securekapi.exe"
log "programs built ($(elapsed))"

# 6. Every test binary, built and run by go test itself: it links and runs
# packages in parallel (-p), each binary in its package directory, through
# scripts/windows/wine-exec.sh. -s -w: no symbol table or DWARF, which only
# debuggers read; links faster. The full log stays in the cache.
log="$cache/last.log"
args=(-count=1 -v -timeout=10m)
[ -z "$run_re" ] || args+=(-run "$run_re")
log "go test ${pkgs[*]} (windows/amd64 under wine)"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $go test -exec "$root/scripts/windows/wine-exec.sh" -ldflags="-s -w" \
	-overlay "$overlay_dir/overlay.json" "${args[@]}" "${pkgs[@]}" 2>&1 | tr -d '\r' >"$log" || true

# 7. One line per package; a failing package's output without its passing
# tests; top-level tests counted. A package that fails with no failing test
# (a panic, a timeout, a build error) counts as one failure.
awk -v skips="${SECUREKAPI_WINE_SKIPS:-}" '
	/^(ok|FAIL|\?)[ \t]+[a-z]/ || /^# / || /^FAIL$/ {
		if ($0 ~ /^FAIL$/) next
		if ($0 ~ /^# /) { build = build $0 "\n"; next }
		if ($1 == "FAIL") {
			print "--- windows: " $0
			printf "%s", build block
			if (f == 0) failed++
		} else print
		if (skips != "" && skipped_here != "") printf "%s", skipped_here
		passed += p; failed += f; skipped += s
		p = f = s = 0; block = ""; skipped_here = ""; build = ""
		next
	}
	/^--- PASS: / { p++ }
	/^--- FAIL: / { f++ }
	/^--- SKIP: / { s++; skipped_here = skipped_here "    " $3 ":" prev "\n" }
	{ line = $0; why = prev; prev = line }
	/^=== / || /^ *--- PASS: / || /^PASS$/ { next }
	{ block = block $0 "\n" }
	END {
		printf "=== windows: %d skipped (each says why; SECUREKAPI_WINE_SKIPS=1 lists them)\n", skipped > "/dev/stderr"
		printf "windows: %d passed, %d failed\n", passed, failed
		exit failed > 0
	}' "$log" && status=0 || status=$?
log "done in $(elapsed); full log: $log"
exit $status
