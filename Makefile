# dedupsim: the two commands a new machine needs are `make run` and
# `make test`; each gets what it needs first and says what it did.

GO         ?= go
BIN        := bin/dedupsim
FUZZTIME   ?= 5m
ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

# CI renders the HTML report in headless Chromium and fails when it cannot;
# elsewhere that test skips unless DEDUPSIM_REQUIRE_CHROMIUM=1.
ifeq ($(CI),true)
export DEDUPSIM_REQUIRE_CHROMIUM ?= 1
endif

.PHONY: all build deps run test bench fuzz clean lint-workflow matrix-gate

all: build

deps:
	@scripts/ensure-postgres.sh

build:
	$(GO) build -o $(BIN) ./cmd/dedupsim

# The original race on the embedded backend: legacy duplicates, setnx not.
run: deps build
	./$(BIN) run c01-original-race

# Unit, property and scenario tests, with the race detector, plus a short
# slice of every fuzz target, after linting the documented workflow. Under
# CI it first makes sure Chromium is there for the HTML report's test.
test: deps lint-workflow
	@if [ "$$DEDUPSIM_REQUIRE_CHROMIUM" = 1 ]; then scripts/ensure-chromium.sh; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory matrix-gate
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=15s ./core/meta

# Every configuration against every case, each cell held to its verdict in
# scenarios/matrix.expected. It takes minutes, so it runs without -race.
matrix-gate:
	DEDUPSIM_MATRIX=1 $(GO) test -count=1 -timeout 40m \
		-run '^TestEveryMatrixCellHasItsHandWrittenVerdict$$' ./sim

# The documented GitHub Actions workflow, checked by actionlint.
lint-workflow:
	$(GO) run $(ACTIONLINT) docs/github-actions.yml

bench: deps
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Long fuzzing, outside CI.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./core/meta

clean:
	rm -rf bin
