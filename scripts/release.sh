#!/usr/bin/env bash
# Cross-compiles the three programs for every platform krew serves (the small
# exec program kubectl-securekapi, the full CLI securekapi it hands over to,
# and securekapi-admin, to which the full CLI hands `expose authn-config` so
# that only it links kube-apiserver's code),
# packs them with LICENSE and shell completions, writes dist/checksums.txt, and
# fills plugins/krew.yaml's version and sha256 values into dist/securekapi.yaml
# (krew's validator and krew-index want the file named after the plugin).
#
# Reproducible: CGO_ENABLED=0, -trimpath, -buildid= and version/commit from
# git via ldflags; archive entries get a fixed mtime and owner.
#
# Usage: scripts/release.sh [VERSION]   (default: git describe)
set -euo pipefail
cd "$(dirname "$0")/.."

# krew wants a semantic version: a v* tag, else v0.0.0-dev.<commit>.
version=${1:-$(git describe --tags --match 'v[0-9]*' 2>/dev/null || echo "v0.0.0-dev.$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")}
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# A fixed timestamp: the commit's, so two builds of one commit are identical.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
ldflags="$(scripts/ldflags.sh "$version" "$commit") -buildid="
platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64)

rm -rf dist && mkdir -p dist/completions
cmds=(./cmd/kubectl-securekapi ./cmd/securekapi ./cmd/securekapi-admin)
# Completion scripts come from the binaries themselves (cobra in the full
# CLI, reached through the small program's hand-over, as users reach it),
# made once on this machine and shipped in every archive.
go build -trimpath -o dist/host/ "${cmds[@]}"
for shell in bash zsh fish powershell; do
  dist/host/kubectl-securekapi completion "$shell" > "dist/completions/kubectl-securekapi.$shell"
done
rm -r dist/host
for platform in "${platforms[@]}"; do
  os=${platform%/*} arch=${platform#*/}
  name="kubectl-securekapi_${version}_${os}_${arch}"
  stage="dist/stage/$name"
  mkdir -p "$stage"
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$stage/" "${cmds[@]}"
  cp LICENSE "$stage/"
  # kubectl's plugin completion helper: `kubectl securekapi <TAB>`.
  cp scripts/kubectl_complete-securekapi "$stage/"
  cp -r dist/completions "$stage/"
  find "$stage" -exec touch -h -d "@$epoch" {} +
  if [ "$os" = windows ]; then
    (cd "$stage" && TZ=UTC zip -q -X -D -r "../../$name.zip" .)
  else
    tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
      -C "$stage" -cf - . | gzip -n > "dist/$name.tar.gz"
  fi
  echo "release: built $name" >&2
done
rm -rf dist/stage dist/completions
(cd dist && sha256sum *.tar.gz *.zip > checksums.txt)

# Fill the manifest: one platform entry per archive with its sha256.
cp plugins/krew.yaml dist/securekapi.yaml
sed -i "s/{{VERSION}}/$version/g" dist/securekapi.yaml
for f in dist/*.tar.gz dist/*.zip; do
  base=$(basename "$f")
  sum=$(sha256sum "$f" | cut -d' ' -f1)
  key=${base#kubectl-securekapi_${version}_}; key=${key%.tar.gz}; key=${key%.zip}
  sed -i "s/{{SHA256_${key}}}/$sum/" dist/securekapi.yaml
done
if grep -q '{{' dist/securekapi.yaml; then
  echo "release: unfilled placeholders in dist/securekapi.yaml" >&2; exit 1
fi
echo "release: dist/ holds ${#platforms[@]} archives, checksums.txt and krew.yaml" >&2
