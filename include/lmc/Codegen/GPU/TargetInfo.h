//===- TargetInfo.h - Facts about the GPU lmc generates code for -*- C++ -*-===//
//
// One home for what the compiler assumes of the chip: its name for NVVM,
// ptxas and the artifact, the PTX features it may use, the warp, the block
// size the mapping passes launch, the SM count and shared memory kernel
// selection sizes templates by. Hopper (sm_90a: H100 SXM,
// H200) is the one GPU target today; the runtime, which links no MLIR,
// checks the same name on the code objects it loads.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_GPU_TARGETINFO_H
#define LMC_CODEGEN_GPU_TARGETINFO_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir::lm::gpu_target {

/// The chip, as `nvvm-attach-target chip=`, `ptxas -arch=` and the
/// artifact's code objects name it.
inline constexpr llvm::StringLiteral kChip = "sm_90a";
/// The PTX ISA version NVVM may emit: 8.0 brought wgmma, TMA and
/// mbarrier's transaction counts, 8.3 the tensor-map proxy fence a kernel
/// needs before its copies read a map the host wrote (CUDA 12.3 drivers).
inline constexpr llvm::StringLiteral kPtxFeatures = "+ptx83";
inline constexpr int64_t kWarpSize = 32;
/// Threads of the 1-D blocks the mapping passes launch (8 warps): launches
/// of the same block size can share a grid (lm-merge-launches).
inline constexpr int64_t kBlockThreads = 256;
inline constexpr int64_t kWarpsPerBlock = kBlockThreads / kWarpSize;
/// Streaming multiprocessors of the sm_90a parts lmc targets (H100 SXM and
/// H200 both have 132): templates size their grids to cover them.
inline constexpr int64_t kSMCount = 132;
/// Shared memory a block may declare statically; more needs an opt-in per
/// function (cuFuncSetAttribute) and dynamic shared memory.
inline constexpr int64_t kStaticSharedBytes = 48 * 1024;
/// Shared memory a block may opt in to on sm_90 (of the SM's 228 KB, 1 KB
/// is the system's per block).
inline constexpr int64_t kMaxSharedBytes = 227 * 1024;
/// Alignment of every shared-memory buffer (lm-merge-gpu-modules sets it):
/// the widest vector load a lane issues.
inline constexpr int64_t kSharedAlignment = 16;

} // namespace mlir::lm::gpu_target

#endif // LMC_CODEGEN_GPU_TARGETINFO_H
