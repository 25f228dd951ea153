# hopsql — see README.md. Two commands matter on a fresh machine: `make run` and `make test`.
GO        ?= go
BIN       := bin/hopsql
# duckdb_arrow turns on duckdb-go's Arrow interface: results of flat column
# types leave DuckDB as columnar batches (engine/columnar.go). GOFLAGS is
# exported, so the go commands the tests run (the harness builds the
# server) get the same tags.
TAGS      ?= duckdb_arrow
override GOFLAGS := -tags=$(TAGS) $(GOFLAGS)
export GOFLAGS
FUZZTIME  ?= 20s

.PHONY: build run test test-deps vet unit e2e fuzz bench clean

build:
	$(GO) build -o $(BIN) ./cmd/hopsql

run: build
	./$(BIN) serve

# test installs what the tests need (Debian packages) when missing, then runs everything.
test: test-deps build vet
	$(GO) test -count=1 -timeout 40m ./...
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
