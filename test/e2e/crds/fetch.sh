#!/bin/sh
# fetch.sh puts the CRDs the e2e tests install into kube-apiserver into a
# local cache and prints that directory on stdout.
#
# The CRDs are other projects' files, so they are not committed: they come
# from the projects' pinned Go modules, through the Go module proxy, which
# also checks them against the checksum database. A cached copy is reused;
# a version bump here fetches into a new directory.
set -eu

CONTOUR=github.com/projectcontour/contour
CONTOUR_VERSION=v1.33.8
GATEWAY_API=sigs.k8s.io/gateway-api
GATEWAY_API_VERSION=v1.4.0 # first release serving BackendTLSPolicy as v1

cache=${SECUREKAPI_CRD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/securekapi/crds}
dest=$cache/contour-$CONTOUR_VERSION-gateway-api-$GATEWAY_API_VERSION
if [ -f "$dest/.complete" ]; then
	echo "$dest"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# moddir MODULE@VERSION downloads the module and prints its directory in
# the module cache. A throwaway module keeps the caller's go.mod untouched.
moddir() {
	(cd "$work" && GOFLAGS=-mod=mod GOWORK=off go mod download -json "$1") |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

[ -f "$work/go.mod" ] || (cd "$work" && go mod init crdfetch >/dev/null 2>&1)
echo "fetch.sh: downloading $CONTOUR@$CONTOUR_VERSION and $GATEWAY_API@$GATEWAY_API_VERSION" >&2
contour=$(moddir "$CONTOUR@$CONTOUR_VERSION")
gateway=$(moddir "$GATEWAY_API@$GATEWAY_API_VERSION")
if [ -z "$contour" ] || [ -z "$gateway" ]; then
	echo "fetch.sh: go mod download gave no module directory; check GOPROXY and network access" >&2
	exit 1
fi

# Build in a sibling directory and rename, so a failed run never leaves a
# half-filled cache that the next run would trust.
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.partial.XXXXXX")
cp "$contour/examples/contour/01-crds.yaml" "$tmp/contour.yaml"
for kind in gatewayclasses gateways httproutes referencegrants backendtlspolicies; do
	cp "$gateway/config/crd/standard/gateway.networking.k8s.io_$kind.yaml" "$tmp/gateway-api-$kind.yaml"
done
chmod 755 "$tmp" # mktemp made it private; these are public files
chmod 644 "$tmp"/*.yaml # the module cache is read-only; the copies need not be
touch "$tmp/.complete"
rm -rf "$dest"
mv "$tmp" "$dest"
echo "$dest"
