#!/usr/bin/env bash
# macOS cannot run here, so CI checks that every package and every test
# package compiles for darwin/amd64 and darwin/arm64: go vet type-checks each
# package with its tests for that OS (and runs vet's checks), and go list
# -test -export compiles each of them, test variants included, without
# linking (48 links per arch would triple the cost; pure Go with cgo off
# does not fail at link time).
#
# Usage: scripts/darwin-check.sh        Env: GO (default go)
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
for arch in amd64 arm64; do
	start=$(date +%s)
	GOOS=darwin GOARCH=$arch CGO_ENABLED=0 $go vet ./...
	n=$(GOOS=darwin GOARCH=$arch CGO_ENABLED=0 $go list -test -export -f '{{if .ForTest}}{{.ImportPath}}{{end}}' ./... | grep -c .)
	echo "darwin/$arch: go vet, and $n test packages compiled, in $(( $(date +%s) - start ))s"
done
