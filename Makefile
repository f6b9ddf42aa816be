# The two commands (see README.md):  make run  /  make test
BUILD ?= build
DATA ?= data/demo
LISTEN ?= 127.0.0.1:8080
JOBS ?= 2
# ccache hits across clones (CI builds in a fresh clone each time).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: run test setup build web bench fuzz clean asan screenshots

setup:
	./scripts/setup.sh

build: setup
	cmake --preset release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	@if [ -f web/package.json ]; then (cd web && npm run --silent build); fi

run: build
	@if [ ! -f $(DATA)/trellis.db ]; then \
	  ./$(BUILD)/trellis init --data $(DATA) && \
	  ./$(BUILD)/trellis demo --data $(DATA) --cases 200 --seed 1; \
	fi
	./$(BUILD)/trellis serve --data $(DATA) --listen $(LISTEN) --print-demo-logins

test: build
	./scripts/test.sh

bench: build
	./bench/run.sh

screenshots: build
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots TRELLIS_BIN=$(BUILD)/trellis tests/ui/run.sh

fuzz:
	./scripts/fuzz.sh 60

asan: setup
	cmake --preset asan >/dev/null
	cmake --build build/asan -j $(JOBS)
	cd build/asan && ctest --output-on-failure -j 2

clean:
	rm -rf $(BUILD)
