# lmc: the two front-door commands are `make demo` and `make check`.
# Both install missing Debian packages, configure and build first.

BUILD ?= build
JOBS ?= 2
# Paths relative to the checkout let ccache share objects between clones.
export CCACHE_BASEDIR := $(CURDIR)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps configure build demo check clean

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

# The main job on the bundled tiny model: import and summarise it, compile it
# for the host, generate tokens with the cache, and time it.
DEMO_MODEL ?= models/golden/qwen3
DEMO_PROMPT ?= 123,55,98,234,129,219,161,120,56,91,160,157
demo: build
	@mkdir -p $(BUILD)/demo
	$(BUILD)/bin/lmc import $(DEMO_MODEL) -o $(BUILD)/demo/model.mlir --summary
	$(BUILD)/bin/lmc compile $(DEMO_MODEL) --target host -o $(BUILD)/demo/model.lmx
	@$(BUILD)/bin/lmc inspect $(BUILD)/demo/model.lmx | grep -E '^(artifact|weights|state|entry|code)'
	@echo "--- generated ids for prompt $(DEMO_PROMPT):"
	$(BUILD)/bin/lmc-run $(BUILD)/demo/model.lmx --prompt-ids $(DEMO_PROMPT) --max-new-tokens 8
	$(BUILD)/bin/lmc-run $(BUILD)/demo/model.lmx --bench

check: build
	scripts/run-tests.sh $(BUILD)

clean:
	rm -rf $(BUILD)
