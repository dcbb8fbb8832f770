#!/usr/bin/env sh
# The one definition of securekapi's release linker flags: stripped, with
# version and commit stamped into pkg/version. The Makefile and
# scripts/release.sh both use it.
#
# Usage: scripts/ldflags.sh VERSION COMMIT
set -eu
pkg=github.com/securekapi/securekapi/pkg/version
printf '%s\n' "-s -w -X $pkg.version=$1 -X $pkg.commit=$2"
