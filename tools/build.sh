#!/usr/bin/env bash
# Builds the real third-party servers and clients the end-to-end tests run
# against (kube-apiserver, Dex, ...) from the Go module proxy, once per machine.
#
# Each tool lives in its own module under tools/<name>/ so its dependency graph
# never touches the main go.mod. Binaries land in a cache outside the work tree
# (default ~/.cache/securekapi/tools), keyed by a hash of the tool's module
# files and the Go version: a fresh clone on the same machine reuses them, and a
# change to a tool's go.mod rebuilds only that tool.
#
# Usage: tools/build.sh [TOOL...]   (default: every tool)
# Prints the cache directory's bin path on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${SECUREKAPI_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/securekapi/tools}
bin="$cache/bin"
mkdir -p "$bin"

# Tool name -> "module-dir package" to build.
declare -A pkg=(
  [kube-apiserver]="kube-apiserver ."
  [kubectl]="kubectl k8s.io/kubernetes/cmd/kubectl"
  [dex]="dex github.com/dexidp/dex/cmd/dex"
  [kubelogin]="kubelogin github.com/int128/kubelogin"
  [krew]="krew sigs.k8s.io/krew/cmd/krew"
  [validate-krew-manifest]="krew sigs.k8s.io/krew/cmd/validate-krew-manifest"
  [staticcheck]="staticcheck honnef.co/go/tools/cmd/staticcheck"
  [hydra]="hydra github.com/ory/hydra/v2"
)

# Tools whose build needs more than the pure-Go default. Hydra's in-memory store
# (DSN=memory, the one the e2e tests use) is SQLite through mattn/go-sqlite3,
# which needs cgo and the `sqlite` tag (the tags hydra's own Makefile builds with).
declare -A cgo=([hydra]=1)
declare -A tags=([hydra]="sqlite,sqlite_omit_load_extension")
# kubectl reports the version the Kubernetes release scripts stamp in; without it
# `kubectl version --client` says v0.0.0-master. Its own module (tools/kubectl), the
# same k8s.io/kubernetes as kube-apiserver's, so adding it changed no other tool's key.
kubever=v1.37.2
declare -A ldflags=([kubectl]="-X k8s.io/component-base/version.gitVersion=$kubever -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 -X k8s.io/client-go/pkg/version.gitVersion=$kubever -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=37")

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=("${!pkg[@]}")

for tool in "${tools[@]}"; do
  [ -n "${pkg[$tool]:-}" ] || { echo "tools/build.sh: unknown tool $tool (known: ${!pkg[*]})" >&2; exit 2; }
  read -r mod target <<<"${pkg[$tool]}"
  dir="$here/$mod"
  key=$( { go version; cat "$dir"/go.mod "$dir"/go.sum; find "$dir" -name '*.go' -exec cat {} +
          [ -z "${ldflags[$tool]:-}" ] || echo "${ldflags[$tool]}"; } | sha256sum | cut -c1-16)
  stamp="$bin/.$tool.key"
  if [ -x "$bin/$tool" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    echo "tools: $tool is cached ($bin/$tool)" >&2
    continue
  fi
  # Every build is kept under its key too, so worktrees on branches that pin
  # different versions (kube-apiserver 1.32 before #14, 1.37 after) switch
  # the cache back and forth by a link instead of rebuilding for minutes.
  kept="$cache/by-key/$tool-$key"
  if [ -x "$kept" ]; then
    ln -f "$kept" "$bin/$tool.tmp" && mv "$bin/$tool.tmp" "$bin/$tool"
    echo "$key" > "$stamp"
    echo "tools: $tool is cached under its key ($kept)" >&2
    continue
  fi
  echo "tools: building $tool (cold builds take minutes; cached afterwards)..." >&2
  start=$(date +%s)
  # GONOSUMDB: the checksum database answers 404 for k8s.io/kubernetes and some
  # staging modules; the committed go.sum pins them instead.
  ( cd "$dir" && GONOSUMDB=k8s.io CGO_ENABLED=${cgo[$tool]:-0} GOFLAGS=-mod=readonly \
      go build -trimpath -tags "${tags[$tool]:-}" -ldflags "${ldflags[$tool]:-}" -o "$bin/$tool.tmp" "$target" )
  mkdir -p "$cache/by-key"
  ln -f "$bin/$tool.tmp" "$kept"
  mv "$bin/$tool.tmp" "$bin/$tool"
  echo "$key" > "$stamp"
  echo "tools: built $tool in $(( $(date +%s) - start ))s" >&2
done
echo "$bin"
