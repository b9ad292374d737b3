# The two commands: `make run` serves the app, `make test` runs the whole suite. Both set up first.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 7860
ARGS ?=
REPLICAS ?= 2

.PHONY: run test lint test-vllm bench-vllm setup setup-test lock bench bench-smoke bench-compare load-test test-models prefetch space-files screenshots replicas gpu-check

run: setup
	$(PY) app.py --host $(HOST) --port $(PORT) $(ARGS)

test: setup-test
	$(PY) -m pytest $(ARGS)

# Lint and format checks (ruff.toml); nothing is rewritten: `ruff check --fix .` and `ruff format .` do that.
lint: setup-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The remote-engine tests against a real vLLM server (CPU build, installed into .cache/vllm-venv the
# first time: ~5-13 min). Not part of `make test`: see README ("Remote models") for how long it takes.
# One pytest worker: both files then share one vLLM server (two at once overload 2 cores).
test-vllm: setup-test
	@bash scripts/setup_vllm.sh
	PLAYGROUND_TEST_ENGINE=vllm $(PY) -m pytest -n 0 tests/test_remote_engine.py tests/test_remote_app.py tests/test_bench_vllm.py $(ARGS)

setup:
	@bash scripts/setup.sh run

setup-test:
	@bash scripts/setup.sh test

# Pin every package: requirements.in -> requirements.txt (set-up, CI and the Space install it) and,
# with the same runtime pins, requirements.in + requirements-test.in -> requirements-test.txt.
# uv comes with the test requirements. Run after editing a .in file, or to move to newer releases.
LOCK := .venv/bin/uv pip compile --quiet --python .venv/bin/python --excludes lock-excludes.txt
lock: setup-test
	$(LOCK) requirements.in -o requirements.txt $(ARGS)
	$(LOCK) requirements.in requirements-test.in --constraints requirements.txt -o requirements-test.txt $(ARGS)

test-models: setup
	$(PY) scripts/make_test_models.py .cache/test-models

prefetch: setup
	$(PY) app.py prefetch $(ARGS)

bench: setup-test
	$(PY) -m bench.run $(ARGS)

# Many users on vLLM's CPU build beside the app (bench/vllm_users.py), installing vLLM first, merged into
# bench/results.json (`make bench` runs the section too once vLLM is installed, and skips it otherwise).
bench-vllm: setup-test
	@bash scripts/setup_vllm.sh
	$(PY) -m bench.run --only vllm_users $(ARGS)

bench-smoke: setup-test
	$(PY) -m bench.run --smoke $(ARGS)

# The app of revision BASELINE against this checkout's, interleaved in one run (bench/before_after.py).
bench-compare: setup-test
	$(if $(BASELINE),,$(error BASELINE=<git revision> is required, e.g. make bench-compare BASELINE=b3c9e8c))
	$(PY) -m bench.before_after --baseline $(BASELINE) $(ARGS)

# On a CUDA machine: device choice, half precision, offload, 8/4-bit loads, batching under 32/16
# concurrent clients and memory after unloading, in about five minutes; one JSON report, exit 1 on a
# failure (scripts/gpu_check.py). bitsandbytes (its 8-bit and 4-bit loads) is installed only where a
# GPU driver is. Without CUDA it says so and exits 0.
gpu-check: setup
	@if command -v nvidia-smi >/dev/null; then $(PY) -m pip install -q "bitsandbytes>=0.45"; fi
	$(PY) scripts/gpu_check.py $(ARGS)

# REPLICAS app processes behind HAProxy on HOST:PORT, sticky sessions (docs/deploy.md); ARGS go to app.py.
replicas:
	@bash scripts/setup.sh replicas
	$(PY) scripts/replicas.py --replicas $(REPLICAS) --host $(HOST) --port $(PORT) -- $(ARGS)

# 100 concurrent mixed clients against the app on the test models with a small queue (not timed).
load-test: test-models
	$(PY) scripts/load_test.py --models .cache/test-models $(ARGS)

# The README's pictures: one example run on every tab, in a real browser, saved to docs/screenshots/.
screenshots: setup-test
	SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest tests/test_browser.py -k one_example -q
