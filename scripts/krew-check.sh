#!/usr/bin/env bash
# Checks the release the way a user meets it: krew's own validator on
# dist/securekapi.yaml, a real `krew install` from the linux/amd64 archive into a
# temporary KREW_ROOT, then the plugin through kubectl's plugin discovery.
# Run scripts/release.sh first (make release does).
#
# Usage: scripts/krew-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "krew-check: $*" >&2; exit 1; }
[ -f dist/securekapi.yaml ] || fail "no dist/securekapi.yaml; run make release first"
tools=$(tools/build.sh krew validate-krew-manifest)
version=$(sed -n 's/^  version: "\(.*\)"$/\1/p' dist/securekapi.yaml)
archive="dist/kubectl-securekapi_${version}_linux_amd64.tar.gz"
[ -f "$archive" ] || fail "no $archive"

# The validator's own install step downloads each uri, which points at a
# release not published yet; the installs below do that job from the local
# archives instead, for every platform.
echo "krew-check: validating dist/securekapi.yaml with krew's validator" >&2
"$tools/validate-krew-manifest" -manifest dist/securekapi.yaml -skip-install -logtostderr=true 2>&1 | sed 's/^/  /' >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "krew's validator rejected dist/securekapi.yaml"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every platform entry: right selector, sha256 and bin, as krew sees them.
for a in dist/*.tar.gz dist/*.zip; do
  platform=${a#dist/kubectl-securekapi_${version}_}; platform=${platform%.tar.gz}; platform=${platform%.zip}
  KREW_ROOT="$work/krew-$platform" KREW_OS=${platform%_*} KREW_ARCH=${platform#*_} \
    "$tools/krew" install --manifest=dist/securekapi.yaml --archive="$a" </dev/null >"$work/install-$platform.log" 2>&1 \
    || fail "krew install for $platform failed: $(cat "$work/install-$platform.log")"
  echo "krew-check: krew installs the $platform archive" >&2
done
export KREW_ROOT="$work/krew" KUBECONFIG="$work/kubeconfig" SECUREKAPI_CONFIG="$work/clusters.yaml"
echo "krew-check: krew install --manifest dist/securekapi.yaml --archive $archive" >&2
"$tools/krew" install --manifest=dist/securekapi.yaml --archive="$archive" </dev/null >&2 \
  || fail "krew could not install the plugin"

# Only krew's bin dir and the system: not this repo's bin/, so kubectl finds
# exactly what krew installed.
export PATH="$KREW_ROOT/bin:/usr/local/bin:/usr/bin:/bin"
kubectl plugin list 2>/dev/null | grep -q "$KREW_ROOT/bin/kubectl-securekapi" \
  || fail "kubectl plugin list does not show krew's kubectl-securekapi"

# krew links only the small program onto PATH; the full CLI and
# securekapi-admin sit beside it in the store, where the hand-overs find them.
store=$(find "$KREW_ROOT/store/securekapi" -mindepth 1 -maxdepth 1 -type d | head -1)
for f in kubectl-securekapi securekapi securekapi-admin; do
  [ -x "$store/$f" ] || fail "installed plugin lacks the $f binary"
done
for f in securekapi securekapi-admin; do
  [ ! -e "$KREW_ROOT/bin/$f" ] || fail "krew put $f on PATH; only kubectl-securekapi belongs there"
done
kubectl plugin list 2>/dev/null | grep -c 'kubectl-securekapi' | grep -qx 1 \
  || fail "kubectl plugin list shows securekapi more than once: $(kubectl plugin list 2>&1)"

# Through kubectl, the small program and its hand-over to the full CLI.
out=$(kubectl securekapi version) || fail "kubectl securekapi version failed"
grep -q "$version" <<<"$out" || fail "kubectl securekapi version printed '$out', want $version"
echo "krew-check: kubectl securekapi version -> $out" >&2

# expose authn-config, handed over twice (small program, full CLI,
# securekapi-admin), offline: kube-apiserver's checks run in securekapi-admin.
authn=$(kubectl securekapi expose authn-config --api-version v1 --audience https://kapi.example.com \
  --ci github --ci-rule 'claims.repository == "org/app"' 2>"$work/authn.err") \
  || fail "kubectl securekapi expose authn-config failed: $(cat "$work/authn.err")"
grep -q 'kind: AuthenticationConfiguration' <<<"$authn" || fail "expose authn-config printed no AuthenticationConfiguration: $authn"
echo "krew-check: kubectl securekapi expose authn-config ran in securekapi-admin" >&2

# doctor with nothing configured must run, explain, and exit non-zero.
set +e
report=$(kubectl securekapi doctor -o json 2>"$work/doctor.err")
code=$?
set -e
[ "$code" -ne 0 ] || fail "doctor passed with no cluster configured"
grep -q '"kubeconfig' <<<"$report" || fail "doctor -o json did not report the kubeconfig check: $report $(cat "$work/doctor.err")"
echo "krew-check: kubectl securekapi doctor ran through kubectl and failed as it should (exit $code)" >&2

# Completion, handed over: the full CLI's script on stdout.
kubectl-securekapi completion bash | grep -q '__start_kubectl-securekapi' \
  || fail "kubectl-securekapi completion bash did not print the completion script"
# The completion helper and scripts are in the installed archive.
for f in LICENSE kubectl_complete-securekapi completions/kubectl-securekapi.bash completions/kubectl-securekapi.zsh; do
  [ -e "$store/$f" ] || fail "installed plugin lacks $f"
done
echo "krew-check: passed" >&2
