//===- MappingUtils.h - What the GPU mapping passes share -------*- C++ -*-===//
//
// A launch over a 1-D grid of 1-D blocks, recovering loop indices from a
// linear index, reading a generic's indexing maps, and finding the fill that
// a reduction's output starts from.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_GPU_MAPPINGUTILS_H
#define LMC_CODEGEN_GPU_MAPPINGUTILS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::lm::gpu_mapping {

/// `gpu.launch` of `blocks` x `threads` (x only), with its terminator and
/// the `workgroup` shared-memory buffers (or `dynamicSharedBytes` of
/// dynamic shared memory, for footprints over what a block may declare
/// statically); `b` is left at the start of the body.
gpu::LaunchOp createLinearLaunch(OpBuilder &b, Location loc, Value blocks,
                                 Value threads, TypeRange workgroup = {},
                                 int64_t dynamicSharedBytes = 0);

/// A memref of `shape` x `element` in shared memory (the workgroup space).
MemRefType workgroupMemRef(MLIRContext *context, ArrayRef<int64_t> shape,
                           Type element);

/// The launch's dynamic shared memory as bytes (gpu.dynamic_shared_memory:
/// 16-byte aligned).
Value dynamicShared(OpBuilder &b, Location loc);

/// The view of `shape` x `element` at `byteOffset` of `shared`, the
/// dynamic shared memory.
Value sharedView(OpBuilder &b, Location loc, Value shared, int64_t byteOffset,
                 ArrayRef<int64_t> shape, Type element);

/// Names the kernel `launch` outlines to after its template (gpu-kernel-
/// outlining takes the name, lm-merge-gpu-modules keeps it, uniqued with a
/// suffix), so launch plans and profiles say which template ran.
void nameKernel(gpu::LaunchOp launch, StringRef name);

/// Splits `linear` into indices of `extents`, the last one fastest.
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear,
                               ArrayRef<Value> extents);

/// The operand indices that `map` gives for loop indices `ivs`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ValueRange ivs);

/// Whether host code `op` touches no device memory: arithmetic and views,
/// and the tensor maps the Hopper templates take (made from a buffer's
/// address and shape; the kernel that reads through one is the reader).
/// lm-map-to-gpu leaves such ops on the host, lm-merge-launches moves
/// launches past them.
bool isHostArithmetic(Operation *op);

/// The fill that gives `op`'s output buffer its initial value, when `op`
/// writes every element of that buffer (a fresh allocation) and nothing
/// touches the buffer between the fill and `op`. A mapping that folds the
/// fill's value into its first write can then drop the fill: one kernel and
/// one pass over the output fewer.
linalg::FillOp initialFill(linalg::GenericOp op);

} // namespace mlir::lm::gpu_mapping

#endif // LMC_CODEGEN_GPU_MAPPINGUTILS_H
