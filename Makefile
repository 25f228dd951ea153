# hopsql — see README.md. Two commands matter on a fresh machine: `make run` and `make test`.
GO        ?= go
BIN       := bin/hopsql
GOFLAGS   ?=
FUZZTIME  ?= 20s

.PHONY: build run test test-deps vet unit e2e fuzz bench clean

build:
	$(GO) build $(GOFLAGS) -o $(BIN) ./cmd/hopsql

run: build
	./$(BIN) serve

# test installs what the tests need (Debian packages) when missing, then runs everything.
test: test-deps build vet
	$(GO) test $(GOFLAGS) -count=1 -timeout 40m ./...
	$(MAKE) fuzz

test-deps:
	bash tests/install-deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . ; echo "gofmt needed"; exit 1)

# A short coverage-guided run of the protocol fuzz target over its seed corpus.
fuzz:
	$(GO) test ./wire/ -run '^$$' -fuzz FuzzFrontendMessages -fuzztime $(FUZZTIME)

# bench starts PostgreSQL 15 and hopsql side by side and writes bench/RESULTS.md.
bench: build test-deps
	$(GO) run ./bench -hopsql ./$(BIN) -out bench/RESULTS.md

clean:
	rm -rf bin
