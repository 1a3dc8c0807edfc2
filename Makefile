# The two commands of the README:
#   make demo   build and run the gateway on an embedded Kafka (http://localhost:5000/)
#   make test   install what the tests need, build, run every test (unit, integration, e2e,
#               then unit + integration again under ASan/UBSan, then fuzz)
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all setup build demo test unit integration e2e asan fuzz clean

all: build

setup:
	scripts/setup

build:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo:
	scripts/setup --demo
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target realtime-events
	$(BUILD)/realtime-events demo

test: setup build
	cd $(BUILD) && ctest --output-on-failure -j1
	JOBS=$(JOBS) scripts/asan $(ASAN_BUILD)
	scripts/fuzz $(FUZZ_SECONDS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

e2e: build
	cd $(BUILD) && ctest --output-on-failure -L e2e

# Debug build with AddressSanitizer + UndefinedBehaviorSanitizer (RTE_DCHECK on):
# unit and integration tests.
asan:
	JOBS=$(JOBS) scripts/asan $(ASAN_BUILD)

fuzz:
	scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz

# Benchmark scenarios (bench/README.md): each starts a Kafka broker, the
# gateway pinned to core 0 and realtime-events-bench on core 1, and writes
# bench/results/<scenario>-gateway-<date>.json. BENCH_ARGS passes options to
# bench/run (e.g. BENCH_ARGS="--target floor").
.PHONY: bench-s1 bench-s1b bench-s2 bench-s3 bench-s4 bench-s5 bench-s6
bench-s1 bench-s1b bench-s2 bench-s3 bench-s4 bench-s5 bench-s6: setup build
	bench/run $(@:bench-%=%) $(BENCH_ARGS)

# A full sitting (bench/sitting): S1 (gateway, node, python, floor BATCH=1 and 4), S1b
# (gateway, floor), S2..S6 (gateway) in order into bench/results/<date>-sitting/, then
# bench/plot (SVG plots, summary.md). SITTING_ARGS passes options to bench/sitting
# (e.g. SITTING_ARGS="--only s1,s2 --targets gateway,floor").
.PHONY: bench-sitting
bench-sitting: setup build
	bench/sitting $(SITTING_ARGS)
