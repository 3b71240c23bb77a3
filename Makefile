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

.PHONY: explore all build deps run test bench fuzz clean lint-workflow matrix-gate images conformance

all: build

deps:
	@scripts/ensure-postgres.sh

build:
	$(GO) build -o $(BIN) ./cmd/dedupsim

# The original race on the embedded backend: legacy duplicates, setnx not.
run: deps build
	./$(BIN) run c01-original-race

# The conformance suite appends one line per backend here (outcome and
# suite time); go test hides a passing package's output, so test prints it.
SUITE_REPORT := $(CURDIR)/bin/conformance.txt

# Unit, property and scenario tests, with the race detector, plus a short
# slice of every fuzz target, after linting the documented workflow. Under
# CI it first makes sure Chromium is there for the HTML report's test.
# Where Docker runs but the official images cannot be pulled, it builds
# their local stand-ins first. The containers backend's process tests run
# the binary built here.
test: deps lint-workflow build
	@if [ "$$DEDUPSIM_REQUIRE_CHROMIUM" = 1 ]; then scripts/ensure-chromium.sh; fi
	@scripts/ensure-images.sh
	$(GO) vet ./...
	DEDUPSIM_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -timeout 30m \
		$$($(GO) list ./... | grep -v '/sim/backend/conformance$$')
	$(MAKE) --no-print-directory conformance

# The conformance suite: every shipped scenario on every backend, and
# miniredis against a real Redis. It runs alone, after the other tests,
# since some shipped scenarios hold a worker for a fixed time and a loaded
# machine could let the race window pass unused.
conformance:
	@mkdir -p bin && rm -f $(SUITE_REPORT)
	DEDUPSIM_SUITE_REPORT=$(SUITE_REPORT) $(GO) test -race -count=1 -timeout 30m \
		./sim/backend/conformance; status=$$?; \
		cat $(SUITE_REPORT) 2>/dev/null; exit $$status
	$(MAKE) --no-print-directory matrix-gate
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=15s ./core/meta
	$(GO) test -run='^$$' -fuzz=FuzzScenario -fuzztime=10s -fuzzminimizetime=3s ./scenarios
	$(GO) test -run='^$$' -fuzz=FuzzIngest -fuzztime=10s -fuzzminimizetime=3s ./core/ingest

# Every configuration against every case, each cell held to its verdict in
# scenarios/matrix.expected. It takes minutes, so it runs without -race.
matrix-gate:
	DEDUPSIM_MATRIX=1 $(GO) test -count=1 -timeout 40m \
		-run '^TestEveryMatrixCellHasItsHandWrittenVerdict$$' ./sim

# The large explorations: exhaustive searches of three workers over the
# claim and the transaction, hundreds of pct runs per depth, and shrinking
# forty drawn variants of the original race. CI runs the small ones.
explore: deps
	DEDUPSIM_EXPLORE=1 $(GO) test -count=1 -timeout 120m -v \
		-run '^(TestLarge|TestShrinkingAlwaysFindsTheTwoCopiesThatRace$$)' ./sim

# Local stand-ins for the official postgres and redis images, from
# Debian's packages, for machines that cannot pull them; rebuilt only when
# their recipe changes.
images:
	@scripts/build-images.sh

# The documented GitHub Actions workflow, checked by actionlint.
lint-workflow:
	$(GO) run $(ACTIONLINT) docs/github-actions.yml

# Every package's Go benchmarks, then dedupsim bench on the embedded
# backend, and on real servers too when DATABASE_URL and REDIS_URL are
# set. Reports go to bin/bench; BENCH_FLAGS adds flags to both runs, such
# as BENCH_FLAGS="--baseline old.json --repeats 5".
BENCH_OUT   := bin/bench
BENCH_FLAGS ?=
bench: deps build
	$(GO) test -run='^$$' -bench=. -benchmem ./...
	@mkdir -p $(BENCH_OUT)
	./$(BIN) bench --backend embedded $(BENCH_FLAGS) \
		--json $(BENCH_OUT)/embedded.json --markdown $(BENCH_OUT)/embedded.md \
		--html $(BENCH_OUT)/embedded.html
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		echo ./$(BIN) bench --backend external $(BENCH_FLAGS); \
		./$(BIN) bench --backend external $(BENCH_FLAGS) \
			--json $(BENCH_OUT)/external.json --markdown $(BENCH_OUT)/external.md \
			--html $(BENCH_OUT)/external.html; \
	else echo "DATABASE_URL and REDIS_URL unset: no run on real servers"; fi

# Long fuzzing, outside CI.
# A target that finds a new input minimizes it for at most 10 s: the
# scenario and ingest targets run a few thousand inputs a second.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./core/meta
	$(GO) test -run='^$$' -fuzz=FuzzScenario -fuzztime=$(FUZZTIME) \
		-fuzzminimizetime=10s ./scenarios
	$(GO) test -run='^$$' -fuzz=FuzzIngest -fuzztime=$(FUZZTIME) \
		-fuzzminimizetime=10s ./core/ingest

clean:
	rm -rf bin
