# dedupsim: the two commands a new machine needs are `make run` and
# `make test`; each gets what it needs first and says what it did.

GO       ?= go
BIN      := bin/dedupsim
FUZZTIME ?= 5m

.PHONY: all build deps run test bench fuzz clean

all: build

deps:
	@scripts/ensure-postgres.sh

build:
	$(GO) build -o $(BIN) ./cmd/dedupsim

# The original race on the embedded backend: legacy duplicates, setnx not.
run: deps build
	./$(BIN) run c01-original-race

# Unit, property and scenario tests, with the race detector, plus a short
# slice of every fuzz target.
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=15s ./core/meta

bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Long fuzzing, outside CI.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./core/meta

clean:
	rm -rf bin
