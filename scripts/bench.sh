#!/usr/bin/env bash
# Runs every benchmark BENCHMARKS.md reports, against the real stack and the
# real OS keyring, and tees everything into one output:
#
#   1. bench-credential: the exec credential hot path (cached token) as whole
#      processes: the small program against kubelogin, gke-gcloud-auth-plugin
#      and a Go hello-world, file and keyring stores; `kubectl get ns` through
#      the exec stanza against a static token; every issue #18 target ratio in
#      one table; plus the package-init trace of that path;
#   2. bench-use: `kubectl securekapi use` vs `kubectl config use-context` on
#      a kubeconfig with 2,000 contexts;
#   3. the Go micro-benchmarks in ./pkg/...
#
# Usage: scripts/bench.sh [OUTPUT]   (default: bin/bench-results.txt, which git ignores)
# Env: BENCH_CREDENTIAL_N (default 30), BENCH_USE_N (default 15).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bin/bench-results.txt}
cd "$root"

command -v /usr/bin/time >/dev/null || { echo "bench: GNU time missing (peak RSS): apt-get install -y time" >&2; exit 1; }

make build >&2
tools_bin=$(tools/build.sh kubelogin kube-apiserver dex)
export SECUREKAPI_BIN="$root/bin/kubectl-securekapi" SECUREKAPI_TOOLS_BIN="$tools_bin"

{
  echo "# securekapi benchmarks"
  echo
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
  echo
  (cd test/e2e && ../../scripts/with-keyring.sh go run ./cmd/bench-credential -n "${BENCH_CREDENTIAL_N:-30}")
  echo
  (cd test/e2e && ../../scripts/with-keyring.sh go run ./cmd/bench-use -n "${BENCH_USE_N:-15}")
  echo
  echo "# Go benchmarks (./pkg/...)"
  echo
  go test -run '^$' -bench . -benchmem ./pkg/...
} 2>&1 | tee "$out"
echo "bench: results in $out" >&2
# bench-tunnel: kubectl through real mTLS access gateways (Squid, stunnel); BENCHMARKS.md section 4.
(cd test/e2e && ../../scripts/with-keyring.sh go run ./cmd/bench-tunnel) 2>&1 | tee -a "$out"
