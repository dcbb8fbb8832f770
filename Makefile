# securekapi build, test and demo entry points. `make help` lists them.
SHELL := /bin/bash
GO ?= go
# bin/ gets the three programs: kubectl-securekapi, the small exec program
# kubectl and krew know; securekapi, the full CLI it hands over to; and
# securekapi-admin, which runs `expose authn-config` for the full CLI (the
# only one that links kube-apiserver's code).
BIN := bin/kubectl-securekapi
CMDS := ./cmd/kubectl-securekapi ./cmd/securekapi ./cmd/securekapi-admin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := $(shell scripts/ldflags.sh '$(VERSION)' '$(COMMIT)')
export CGO_ENABLED ?= 0

.PHONY: help build test unit windows-test darwin-check e2e demo demo-once bench lint tools release krew-check clean fuzz fuzz-short

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

build: ## Build bin/kubectl-securekapi (the small exec program), bin/securekapi (the full CLI) and bin/securekapi-admin (expose authn-config)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ $(CMDS)

tools: ## Build the real servers used by e2e tests and the demo (cached per machine)
	tools/build.sh >/dev/null

unit: ## Unit tests, with a real gnome-keyring for the keyring store
	CGO_ENABLED=1 scripts/with-keyring.sh $(GO) test -race -count=1 ./... # the race detector needs cgo

windows-test: ## Unit tests built for windows/amd64, run under wine (installs wine64 when missing; scripts/windows-tests.sh)
	scripts/windows-tests.sh

darwin-check: ## go vet and every test package compiled for darwin/amd64 and darwin/arm64 (macOS cannot run here)
	scripts/darwin-check.sh

e2e: build tools ## End-to-end tests against the real stack (etcd, kube-apiserver, Dex, HAProxy, gnome-keyring)
	cd test/e2e && SECUREKAPI_BIN=$(CURDIR)/$(BIN) SECUREKAPI_TOOLS_BIN=$$(../../tools/build.sh) \
		../../scripts/with-keyring.sh $(GO) test -count=1 -timeout 30m -v ./...

test: lint unit windows-test darwin-check fuzz-short e2e krew-check ## Everything CI runs: lint, unit (Linux, then Windows under wine), the macOS build check, fuzz (short), e2e, release archives installed by the real krew

demo: build tools ## Start the local stack and show the main job; Ctrl-C stops it
	cd test/e2e && SECUREKAPI_BIN=$(CURDIR)/$(BIN) SECUREKAPI_TOOLS_BIN=$$(../../tools/build.sh) \
		../../scripts/with-keyring.sh $(GO) run ./cmd/demo

demo-once: build tools ## The demo, exiting when it has shown everything
	cd test/e2e && SECUREKAPI_BIN=$(CURDIR)/$(BIN) SECUREKAPI_TOOLS_BIN=$$(../../tools/build.sh) \
		../../scripts/with-keyring.sh $(GO) run ./cmd/demo --once

lint: ## go vet, gofmt and staticcheck (honnef.co/go/tools, built by tools/build.sh), both modules
	$(GO) vet ./...
	cd test/e2e && $(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	staticcheck=$$(tools/build.sh staticcheck)/staticcheck && $$staticcheck ./... && cd test/e2e && $$staticcheck ./...

FUZZTIME ?= 10m
fuzz: ## Every fuzz target in ./pkg, one after another, FUZZTIME each (default 10m)
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

fuzz-short: ## Every fuzz target for 10s (CI; 12 targets: about 2 min plus builds)
	FUZZTIME=10s scripts/fuzz.sh

bench: build tools ## Benchmarks: Go benchmarks and side-by-side scripts (see BENCHMARKS.md)
	scripts/bench.sh

release: ## Archives for linux, darwin, windows (amd64, arm64), checksums and dist/securekapi.yaml for krew
	scripts/release.sh $(RELEASE_VERSION)

krew-check: release ## Validate the krew manifest, install every archive with the real krew, run the plugin through kubectl
	scripts/krew-check.sh

clean: ## Remove build output (not the tools cache)
	rm -rf bin dist
