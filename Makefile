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
# Known-good versions of every dependency (pyproject.toml keeps the lower bounds);
# `make setup CONSTRAINTS=` installs without them.
CONSTRAINTS ?= .ci/constraints.txt
PIN := $(if $(CONSTRAINTS),-c $(CONSTRAINTS))

.PHONY: setup demo test test-unit test-lsp test-model test-editors bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(PIN) "$(TORCH_SPEC)" || $(PIP) install -q $(PIN) torch --index-url $(TORCH_CPU_INDEX)
	$(PIP) install -q $(PIN) -e ".[dev]"
	touch $(STAMP)

# The product tour, offline on CPU: every figure it prints is measured in this run.
# Each step is the plain command a user would type; outputs go to $(DEMO), which each
# run starts afresh (it removes $(DEMO) first), so a second `make demo` repeats the tour
# and, with fixed seeds and a step (not time) budget, prints the same figures.
DEMO       ?= runs/demo
DEMO_LIMIT ?= 10
# The adapter's training budget, in optimizer steps (about 3.5 minutes on 2 idle cores).
DEMO_STEPS ?= 80
BIN        := $(VENV)/bin
# A cursor in a held-out file of the sample repository, where its own idiom comes next.
DEMO_AT    ?= tests/fixtures/sample_repo/quillbook/royalties.py:24:5
demo: $(STAMP)
	rm -rf $(DEMO)
	@echo "== 1. builtin:tiny (built once, then cached) fills in a sample file"
	$(PY) -m codegen.core.builtin.demo
	@echo "== 2. HumanEval and execution-based infilling on a small slice (base model)"
	$(BIN)/codegen-eval humaneval --model builtin:tiny --limit $(DEMO_LIMIT) --n 1 --k 1 --out $(DEMO)/humaneval-base
	$(BIN)/codegen-eval infill --model builtin:tiny --limit $(DEMO_LIMIT) --k 1 --out $(DEMO)/infill-base
	@echo "== 3. Training data from the sample repository, then a LoRA adapter"
	@# 400-character windows: builtin:tiny was pretrained on 256-token contexts. FIM and LM
	@# tasks only: step 4 measures FIM, and a toy's few minutes are best spent on it. A step
	@# budget, not --max-minutes: a busy machine trains the same adapter, only slower.
	$(BIN)/codegen-train data --source tests/fixtures/sample_repo --eval-fraction 0.2 --window-chars 400 --tasks fim,lm --out $(DEMO)/data
	$(BIN)/codegen-train sft --base builtin:tiny --data $(DEMO)/data --out $(DEMO)/adapter --max-steps $(DEMO_STEPS)
	@echo "== 4. Base against adapter: FIM exact match on held-out files, and infilling"
	$(BIN)/codegen-eval fim --model builtin:tiny --data $(DEMO)/data --out $(DEMO)/fim-base
	$(BIN)/codegen-eval fim --model builtin:tiny --adapter $(DEMO)/adapter --data $(DEMO)/data --out $(DEMO)/fim-adapter
	$(BIN)/codegen-eval infill --model builtin:tiny --adapter $(DEMO)/adapter --limit $(DEMO_LIMIT) --k 1 --out $(DEMO)/infill-adapter
	$(BIN)/codegen-eval compare $(DEMO)/fim-base $(DEMO)/fim-adapter
	$(BIN)/codegen-eval compare $(DEMO)/infill-base $(DEMO)/infill-adapter
	@echo "== 5. codegen-lsp with the adapter: one inline completion over a real stdio round trip"
	$(PY) -m codegen.server.stdio_client $(DEMO_AT) --clear-rest-of-line --model builtin:tiny --adapter $(DEMO)/adapter

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests

test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

test-lsp: $(STAMP)
	$(PY) -m pytest -q tests/lsp

test-model: $(STAMP)
	$(PY) -m pytest -q tests/model

test-editors: $(STAMP)
	$(PY) -m pytest -q tests/editors

bench: $(STAMP)
	@for f in bench/bench_*.py bench/gpu.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check core server training eval bench tests
	$(VENV)/bin/ruff format --check core server training eval bench tests
	$(VENV)/bin/mypy core server

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
