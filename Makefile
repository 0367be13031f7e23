# beacon: partner-engagement tracking pipeline. `make run` brings up the whole stack,
# `make test` runs the whole suite against real ClickHouse, Kafka-protocol broker and Chromium.
GO      ?= go
BIN     := bin/beacon
GOFLAGS ?=
# Parallel test binaries each start their own ClickHouse; two fit a 2-core machine.
TESTP   ?= 2

.PHONY: all build run test test-go test-race test-js test-console console-assets bench faults lint clean snippet deps image

all: build

build: console-assets
	$(GO) build $(GOFLAGS) -o $(BIN) ./cmd/beacon

# The console's script and stylesheet, embedded into bin/beacon (console/assets).
console-assets:
	$(MAKE) -C console/web build

# The snippet build is served by the collector at /b.js and the demo page at /demo/.
snippet:
	$(MAKE) -C js-snippet build

run: build snippet
	./$(BIN) dev

test: deps lint console-assets test-go test-js test-console

# What the tests need beyond Go and npm: Debian's chromium, kcat and prometheus (installed with
# apt-get when running as root; otherwise the script names the command), then the ClickHouse engine
# from npm into .cache/, fetched up front so its progress shows.
deps:
	@scripts/deps.sh
	@$(GO) run ./cmd/beacon clickhouse -fetchOnly

test-go:
	$(GO) test $(GOFLAGS) -p $(TESTP) -count=1 -timeout 20m ./...

# The race detector over the packages that share memory between goroutines on the request
# path, the spool, the broker connection, signals and the console (about 2 minutes on 2
# cores). The ingest's integration tests outgrow their timeouts under it on 2 cores; its
# concurrency is covered by its kill and rebalance tests without it. Not part of `make test`.
test-race:
	$(GO) test $(GOFLAGS) -race -count=1 -timeout 20m ./beacon/... ./collector ./internal/spool ./internal/kafkaconn ./signals ./console

test-js:
	$(MAKE) -C js-snippet test

# The console in real Chromium against a local ClickHouse with console/testdata/golden.
test-console:
	$(MAKE) -C console/web test

bench: build
	$(MAKE) -C bench all

# The fault-injection suite (faults/README.md): every part killed, stopped or frozen under load,
# then lost and doubled events per scenario, recorded in faults/RESULTS.md (last three runs). Run it
# alone; it stops starting scenarios after 14 minutes.
faults:
	$(GO) run ./faults -out var/faults.md -results faults/RESULTS.md

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './js-snippet/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Container image (deploy/container/Containerfile) with podman, else buildah.
IMAGE ?= beacon:latest
image: console-assets
	CGO_ENABLED=0 $(GO) build $(GOFLAGS) -o deploy/container/beacon ./cmd/beacon
	cp /etc/ssl/certs/ca-certificates.crt deploy/container/
	if command -v podman >/dev/null; then podman build -t $(IMAGE) deploy/container; \
	else buildah bud -t $(IMAGE) deploy/container; fi

clean:
	rm -rf bin var deploy/container/beacon deploy/container/ca-certificates.crt
	$(MAKE) -C js-snippet clean
	$(MAKE) -C console/web clean
