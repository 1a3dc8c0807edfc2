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
