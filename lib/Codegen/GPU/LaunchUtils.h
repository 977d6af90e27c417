//===- LaunchUtils.h - Building 1-D launches ---------------------*- C++ -*-===//
//
// What the GPU mapping passes share: a launch over a 1-D grid of 1-D blocks,
// and recovering loop indices from a linear index.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_GPU_LAUNCHUTILS_H
#define LMC_CODEGEN_GPU_LAUNCHUTILS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::lm::gpu_mapping {

/// `gpu.launch` of `blocks` x `threads` (x only), with its terminator; `b`
/// is left at the start of the body.
gpu::LaunchOp createLinearLaunch(OpBuilder &b, Location loc, Value blocks,
                                 Value threads);

/// Splits `linear` into indices of `extents`, the last one fastest.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear,
                               ArrayRef<Value> extents);

} // namespace mlir::lm::gpu_mapping

#endif // LMC_CODEGEN_GPU_LAUNCHUTILS_H
