# swiftconv: `make demo` runs the main job, `make test` runs every test. Both build first.
PYTHON ?= python3
export PYTHONPATH := $(CURDIR)/python

.PHONY: all build test swift-test py-test test-deps demo bench fixtures clean

all: build

## Build the Swift engine (release, static stdlib) and the CPython extension in place.
build:
	$(PYTHON) setup.py -q build_ext --inplace

## Every test: the Swift suite, then the Python suite.
test: build swift-test py-test

swift-test:
	swift test

py-test: build test-deps
	$(PYTHON) -m pytest python/tests -q

test-deps:
	@$(PYTHON) -c "import pytest, hypothesis" 2>/dev/null || $(PYTHON) -m pip install -q pytest hypothesis

## The main job: the notebook's walkthrough, checked against saved PyTorch outputs.
demo: build
	$(PYTHON) -m swiftconv

## Speed against baselines measured in the same run.
bench: build
	$(PYTHON) benchmarks/bench.py

## Regenerate the PyTorch fixtures (needs torch; run by hand, commit the results).
fixtures:
	$(PYTHON) python/tools/make_fixtures.py

## `swift test` under AddressSanitizer, then ThreadSanitizer (separate build dirs).
.PHONY: sanitize sanitize-address sanitize-thread
sanitize: sanitize-address sanitize-thread

sanitize-address:
	swift test --sanitize=address --scratch-path .build-asan

sanitize-thread:
	TSAN_OPTIONS=halt_on_error=1 swift test --sanitize=thread --scratch-path .build-tsan

clean:
	rm -rf .build build python/swiftconv/*.so python/swiftconv/__pycache__
