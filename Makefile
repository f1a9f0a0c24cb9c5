# codegen: the two commands a newcomer needs are `make demo` and `make test`.
# Both create the virtual environment first when it is missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.setup-stamp
# The CPU build of torch; a bare `torch` requirement could pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: setup demo test test-unit test-lsp test-model test-editors bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH_SPEC)" || $(PIP) install -q torch --index-url $(TORCH_CPU_INDEX)
	$(PIP) install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m codegen.core.demo

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests

test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

test-lsp: $(STAMP)
	$(PY) -m pytest -q tests/lsp

test-model: $(STAMP)
	$(PY) -m pytest -q tests/model

bench: $(STAMP)
	@for f in bench/bench_*.py bench/gpu.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check core server training eval bench tests codegen
	$(VENV)/bin/ruff format --check core server training eval bench tests codegen
	$(VENV)/bin/mypy core server

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
