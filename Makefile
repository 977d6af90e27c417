# lmc: the two front-door commands are `make demo` and `make check`.
# Both install missing Debian packages, configure and build first.

BUILD ?= build
JOBS ?= 2
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

# The main job on the bundled tiny model: import it, check it round-trips,
# and summarise it.
DEMO_MODEL ?= models/golden/qwen3
demo: build
	@mkdir -p $(BUILD)/demo
	$(BUILD)/bin/lmc import $(DEMO_MODEL) -o $(BUILD)/demo/model.mlir
	$(BUILD)/bin/lmc-opt $(BUILD)/demo/model.mlir -o /dev/null
	@echo "--- first layer of $(BUILD)/demo/model.mlir:"
	@grep -m 24 -E 'lm\.(embed|rms_norm|linear|split_heads|rope|kv_cache_update|attention|glu)' $(BUILD)/demo/model.mlir | cut -c1-150
	@echo "--- summary:"
	$(BUILD)/bin/lmc inspect $(BUILD)/demo/model.mlir

check: build
	scripts/run-tests.sh $(BUILD)

clean:
	rm -rf $(BUILD)
