# Tokenwarden. `make run` starts the demo; `make test` runs every test that
# needs nothing but Go. See README.md.

GO       ?= go
# The patched Go: the go command fetches this toolchain from the module
# proxy on first use (~76 MB, once per machine). Go 1.26.8 has ten
# standard-library vulnerabilities reachable from the sidecar.
export GOTOOLCHAIN = go1.27.3
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/tokenwarden
LISTEN   ?= 127.0.0.1:8787

.PHONY: run build build-nodemo test test-clock-shift test-helm vet lint fmt-check vulncheck docker clean help

help:
	@echo "make run        start the sidecar with built-in demo upstreams on $(LISTEN)"
	@echo "make test       vet, format check and all Go tests (race detector on)"
	@echo "make e2e        end-to-end tests in a real n8n (installs n8n into a cache)"
	@echo "make bench      benchmarks: latency, throughput, sign-ins, memory"
	@echo "make n8n-package  build the n8n community node package into dist/"
	@echo "make vulncheck  govulncheck of both binaries against a database built offline"
	@echo "make docker     build the container image (needs a Docker engine)"

run:
	$(GO) run -ldflags "$(LDFLAGS)" ./sidecar/cmd/tokenwarden demo --listen $(LISTEN)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./sidecar/cmd/tokenwarden

# The production build: no demo emulators (see docker/Dockerfile's TAGS).
build-nodemo:
	CGO_ENABLED=0 $(GO) build -trimpath -tags nodemo -ldflags "$(LDFLAGS)" -o $(BIN)-nodemo ./sidecar/cmd/tokenwarden

vet:
	$(GO) vet ./...

# staticcheck, pinned, run from the module proxy's source with the patched
# toolchain (a staticcheck built by an older Go cannot read this standard
# library), over the sidecar's module and the Helm chart's.
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint:
	$(STATICCHECK) ./...
	cd docker/helm/charttest && $(STATICCHECK) ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: fmt-check vet lint
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory test-clock-shift
	$(MAKE) --no-print-directory test-helm

# The Helm chart: helm lint --strict and helm template decoded strictly into
# the Kubernetes API types, in a module of its own (Helm's Go packages come
# from the Go module proxy and stay out of the sidecar's module).
test-helm:
	cd docker/helm/charttest && $(GO) vet ./... && $(GO) test -count=1 ./...

# Every suite that uses test clocks, again with each clock started a year
# behind and a year ahead of the wall clock: a component that reads time.Now
# instead of the test's clock then fails today, not on some later date.
CLOCK_SUITES = $(shell $(GO) list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | awk '/internal\/testclock( |$$)/ {print $$1}')
test-clock-shift:
	@for shift in -8760h 8760h; do \
		echo "== test clocks shifted $$shift"; \
		TOKENWARDEN_TEST_CLOCK_SHIFT=$$shift $(GO) test -count=1 $(CLOCK_SUITES) || exit 1; \
	done

# No reachable known vulnerability in either binary (see .ci/vulncheck).
vulncheck:
	bash .ci/vulncheck

docker:
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "make docker needs a running Docker engine"; exit 1; }
	docker build -f docker/Dockerfile --build-arg VERSION=$(VERSION) -t tokenwarden:$(VERSION) .

clean:
	rm -rf bin dist

# Targets contributed per area (n8n package and e2e, benchmarks).
include $(wildcard make/*.mk)
