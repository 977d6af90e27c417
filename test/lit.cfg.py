# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "LMC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "FakeCudaDriver", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lmc_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(
    ("%golden", os.path.join(config.lmc_src_root, "models", "golden")))
config.substitutions.append(
    ("%configs", os.path.join(config.lmc_src_root, "models", "configs")))
config.substitutions.append(("%bench", os.path.join(config.lmc_src_root, "bench")))

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
# For the sanitizer build (make check-sanitize); harmless elsewhere. LLVM and
# MLIR come uninstrumented from Debian: their allocators' ASan poisoning,
# inlined from headers into lmc's instrumented code, does not match the
# library's own unpoisoned writes, so user poisoning is off. Leaks count.
config.environment["ASAN_OPTIONS"] = "allow_user_poisoning=0:detect_leaks=1"
config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
llvm_config.use_default_substitutions()
# `not` and `count` at the start of a RUN line are found through PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.lmc_tools_dir, config.llvm_tools_dir]
tools = ["lmc", "lmc-opt", "lmc-run", "lmc-tokenize", "lmc-rt-api-test"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The real model (SmolLM2-135M-Instruct GGUF), when `make check` could fetch it.
smollm2 = os.path.join(config.lmc_obj_root, "models", "smollm2",
                       "SmolLM2-135M-Instruct.Q4_1.gguf")
if os.path.exists(smollm2):
    config.available_features.add("smollm2")
    config.substitutions.append(("%smollm2", smollm2))
# The same model as a Hugging Face folder (scripts/make-smollm2-folder.sh).
smollm2_hf = os.path.join(config.lmc_obj_root, "models", "smollm2-hf")
if os.path.exists(os.path.join(smollm2_hf, "tokenizer.json")):
    config.available_features.add("smollm2-hf")
    config.substitutions.append(("%hf_smollm2", smollm2_hf))

# The fuzz targets of a sanitizer build (make build-sanitize): test/Fuzz runs
# each over the repository's fixtures and the inputs of past findings.
fuzz_dir = os.path.join(config.lmc_obj_root, "fuzz")
if os.path.exists(os.path.join(fuzz_dir, "lmc-fuzz-config")):
    config.available_features.add("fuzz")
    config.substitutions.append(("%fuzz", fuzz_dir))
config.substitutions.append(
    ("%past_findings", os.path.join(config.lmc_src_root, "fuzz", "regressions")))

# Stand-in CUDA drivers for the device checks (test/FakeCudaDriver).
config.substitutions.append(
    ("%fake_cuda", os.path.join(config.lmc_obj_root, "test", "fake-cuda")))

# A real CUDA driver on this machine (cuda-driver), with an sm_90 GPU
# (cuda-sm90): the GPU tests can run.
try:
    import ctypes
    cuda = ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
    count, major, minor = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
    if (cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0
            and count.value > 0
            and cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, 0) == 0
            and cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, 0) == 0
            and (major.value, minor.value) == (9, 0)):
        config.available_features.add("cuda-sm90")
except OSError:
    pass

# ptxas (CUDA toolkit) to assemble the PTX of sm_90a artifacts.
ptxas = None
for candidate in [os.path.join(d, "ptxas")
                  for d in os.environ.get("PATH", "").split(os.pathsep)] + [
        os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin",
                     "ptxas"), "/usr/local/cuda/bin/ptxas"]:
    if os.access(candidate, os.X_OK):
        ptxas = candidate
        break
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
