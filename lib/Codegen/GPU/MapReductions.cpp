//===- MapReductions.cpp - Reducing generics -> one warp per output -------===//
//
// A thread per output element with a serial reduction loop reads a weight
// row per thread: 32 rows per warp access, nothing coalesced. A warp per
// output element reads 32 consecutive elements of one row instead.
//
//===----------------------------------------------------------------------===//

#include "../BufferRoots.h"
#include "../Combiner.h"
#include "MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MAPREDUCTIONSTOGPUPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
using gpu_target::kWarpSize;
using gpu_target::kWarpsPerBlock;

/// The combiner's identity: 0 for sums, -inf / +inf for max / min.
Value identityOf(OpBuilder &b, Location loc, Operation *combiner) {
  auto type = cast<FloatType>(combiner->getResult(0).getType());
  const llvm::fltSemantics &sem = type.getFloatSemantics();
  APFloat value = isa<arith::AddFOp>(combiner) ? APFloat::getZero(sem)
                  : isa<arith::MaximumFOp, arith::MaxNumFOp>(combiner)
                      ? APFloat::getInf(sem, /*Negative=*/true)
                      : APFloat::getInf(sem, /*Negative=*/false);
  return arith::ConstantFloatOp::create(b, loc, type, value);
}

/// `combiner(a, b)`, a clone of the body's combiner on other operands.
Value combine(OpBuilder &b, Operation *combiner, Value lhs, Value rhs) {
  Operation *op = b.clone(*combiner);
  op->setOperands({lhs, rhs});
  return op->getResult(0);
}

/// The op after `op` that is not host arithmetic, a view or a fresh
/// allocation (in a kernel choice's generic branch, buffers are allocations
/// rather than arena views): the candidate to fold into `op`'s kernel.
Operation *nextKernelCandidate(Operation *op) {
  Operation *next = op->getNextNode();
  while (next && next->getNumRegions() == 0 &&
         (isMemoryEffectFree(next) || isa<memref::AllocOp>(next)))
    next = next->getNextNode();
  return next;
}

/// An elementwise generic right after `op` that rewrites `op`'s output in
/// place, element for element (attention's mask over the scores): lane 0
/// can apply it to the value it stores, and its kernel goes.
linalg::GenericOp epilogueOf(linalg::GenericOp op) {
  Value out = op.getDpsInitOperand(0)->get();
  Operation *next = nextKernelCandidate(op);
  auto epilogue = dyn_cast_or_null<linalg::GenericOp>(next);
  auto type = dyn_cast<MemRefType>(out.getType());
  if (!epilogue || !type || !epilogue.hasPureBufferSemantics() ||
      epilogue.getNumDpsInits() != 1 ||
      epilogue.getDpsInitOperand(0)->get() != out ||
      epilogue.getNumReductionLoops() != 0 ||
      epilogue.getNumLoops() != type.getRank() ||
      !epilogue.getMatchingIndexingMap(epilogue.getDpsInitOperand(0))
           .isIdentity())
    return nullptr;
  // Other inputs are read where the reduction stores: they must be other
  // buffers; the output itself only at the element being written.
  for (OpOperand *input : epilogue.getDpsInputOperands()) {
    if (!isa<MemRefType>(input->get().getType()))
      continue;
    if (input->get() == out) {
      if (!epilogue.getMatchingIndexingMap(input).isIdentity())
        return nullptr;
      continue;
    }
    if (rootOf(input->get()) == rootOf(out))
      return nullptr;
  }
  for (Operation &inner : epilogue.getRegion().front())
    if (inner.getNumRegions() != 0)
      return nullptr;
  return epilogue;
}

/// Sets the reduction dimensions of `ivs` to iteration `iv + offset` of the
/// linearised reduction space (innermost fastest).
void atReductionIteration(OpBuilder &b, Location loc, SmallVector<Value> &ivs,
                          ArrayRef<int64_t> dims, ArrayRef<Value> extents,
                          Value iv, int64_t offset) {
  Value iteration = arith::AddIOp::create(
      b, loc, iv, arith::ConstantIndexOp::create(b, loc, offset));
  for (auto [dim, index] :
       llvm::zip(dims, gpu_mapping::delinearize(b, loc, iteration, extents)))
    ivs[dim] = index;
}

/// Maps `generic`'s input block arguments to their elements at loop indices
/// `ivs`: buffers are loaded, `replaced` (when given) reads as `value`.
void mapInputsAt(OpBuilder &b, Location loc, linalg::GenericOp generic,
                 ValueRange ivs, IRMapping &mapping, Value replaced = Value(),
                 Value value = Value()) {
  Block &body = generic.getRegion().front();
  for (OpOperand *input : generic.getDpsInputOperands()) {
    Value operand = input->get();
    Value element = operand;
    if (replaced && operand == replaced)
      element = value;
    else if (isa<MemRefType>(operand.getType()))
      element = memref::LoadOp::create(
          b, loc, operand,
          gpu_mapping::applyMap(b, loc, generic.getMatchingIndexingMap(input),
                                ivs));
    mapping.map(body.getArgument(input->getOperandNumber()), element);
  }
}

/// Clones `generic`'s body (an elementwise one) with `mapping`, its loop
/// indices being `ivs`; returns the value it yields.
Value cloneBodyAt(OpBuilder &b, linalg::GenericOp generic, ValueRange ivs,
                  IRMapping &mapping) {
  Block &body = generic.getRegion().front();
  for (Operation &inner : body.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  return mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
}

/// `epilogue`'s body for the output element at `indices` whose value the
/// reduction computed as `value`.
Value applyEpilogue(OpBuilder &b, Location loc, linalg::GenericOp epilogue,
                    ValueRange indices, Value value) {
  Value out = epilogue.getDpsInitOperand(0)->get();
  IRMapping mapping;
  mapInputsAt(b, loc, epilogue, indices, mapping, out, value);
  mapping.map(epilogue.getRegion().front().getArguments().back(), value);
  return cloneBodyAt(b, epilogue, indices, mapping);
}

/// An elementwise generic right after `op` that reads `op`'s result
/// broadcast over the reduced dimensions (a norm's scaling, softmax's
/// exp(x - max)): its loops are `op`'s loops (both read one buffer through
/// the same permutation map) and it reads `op`'s output through `op`'s
/// output map. The warp that reduced a row holds the row's result in every
/// lane, so it can write the row's elements itself, and the consumer is no
/// kernel of its own.
linalg::GenericOp rowConsumerOf(linalg::GenericOp op) {
  Value out = op.getDpsInitOperand(0)->get();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  Operation *next = nextKernelCandidate(op);
  auto consumer = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!consumer || !consumer.hasPureBufferSemantics() ||
      consumer.getNumDpsInits() != 1 || consumer.getNumReductionLoops() != 0 ||
      consumer.getNumLoops() != op.getNumLoops() ||
      !consumer.getMatchingIndexingMap(consumer.getDpsInitOperand(0))
           .isPermutation())
    return nullptr;
  // The rows it writes must be nothing a reduction of another row reads.
  Value written = rootOf(consumer.getDpsInitOperand(0)->get());
  if (written == rootOf(out))
    return nullptr;
  for (OpOperand *input : op.getDpsInputOperands())
    if (isa<MemRefType>(input->get().getType()) &&
        rootOf(input->get()) == written)
      return nullptr;
  bool readsResult = false, sameLoops = false;
  for (OpOperand *input : consumer.getDpsInputOperands()) {
    Value value = input->get();
    if (!isa<MemRefType>(value.getType()))
      continue;
    AffineMap map = consumer.getMatchingIndexingMap(input);
    if (value == out) {
      if (map != outMap)
        return nullptr;
      readsResult = true;
      continue;
    }
    if (rootOf(value) == rootOf(out) || rootOf(value) == written)
      return nullptr;
    for (OpOperand *reduced : op.getDpsInputOperands())
      if (reduced->get() == value && map.isPermutation() &&
          op.getMatchingIndexingMap(reduced) == map)
        sameLoops = true;
  }
  // Its body may gather (lm.rope reads a channel's partner), but not from
  // the reduction's result or its own output: other lanes write those.
  for (Operation &inner : consumer.getRegion().front()) {
    if (inner.getNumRegions() != 0)
      return nullptr;
    if (auto load = dyn_cast<memref::LoadOp>(inner))
      if (Value root = rootOf(load.getMemRef());
          root == rootOf(out) || root == written)
        return nullptr;
  }
  return readsResult && sameLoops ? consumer : nullptr;
}

LogicalResult mapToWarps(linalg::GenericOp op) {
  Operation *combiner = matchCombiner(op);
  if (!combiner || op.getNumDpsInits() != 1 || !op.hasPureBufferSemantics() ||
      !op.getRegion().front().getArguments().back().getType().isF32() ||
      op.getNumReductionLoops() == 0)
    return failure();
  Location loc = op.getLoc();
  linalg::FillOp fill = gpu_mapping::initialFill(op);
  Value initialValue = fill ? fill.getInputs()[0] : Value();
  linalg::GenericOp epilogue = epilogueOf(op);
  // A consumer of the whole row: the warp writes it (every lane holds the
  // same result after the butterfly). Only from a fill's value: lanes other
  // than the first would otherwise read the output as lane 0 writes it.
  linalg::GenericOp consumer =
      !epilogue && initialValue ? rowConsumerOf(op) : linalg::GenericOp();
  // The host ops between them (the consumer's output view) go first: the
  // kernel will use them.
  if (consumer)
    while (op->getNextNode() != consumer.getOperation())
      op->getNextNode()->moveBefore(op);
  OpBuilder b(op);
  // Loop extents (offsets are 0 and strides 1 for generics), split into
  // output (parallel) and reduction dimensions.
  SmallVector<Range, 4> ranges =
      cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc);
  SmallVector<Value> parallelExtents, reductionExtents;
  SmallVector<int64_t> parallelDims, reductionDims;
  for (auto [dim, range] : llvm::enumerate(ranges)) {
    Value extent = getValueOrCreateConstantIndexOp(b, loc, range.size);
    if (op.getIteratorTypesArray()[dim] == utils::IteratorType::reduction) {
      reductionDims.push_back(dim);
      reductionExtents.push_back(extent);
    } else {
      parallelDims.push_back(dim);
      parallelExtents.push_back(extent);
    }
  }
  auto product = [&](ArrayRef<Value> extents) {
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    for (Value e : extents)
      total = b.createOrFold<arith::MulIOp>(loc, total, e);
    return total;
  };
  Value outputs = product(parallelExtents);
  Value reductions = product(reductionExtents);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value warps = arith::ConstantIndexOp::create(b, loc, kWarpsPerBlock);
  Value threads =
      arith::ConstantIndexOp::create(b, loc, kWarpsPerBlock * kWarpSize);
  Value blocks = b.createOrFold<arith::MaxUIOp>(
      loc, b.createOrFold<arith::CeilDivUIOp>(loc, outputs, warps), one);
  gpu::LaunchOp launch =
      gpu_mapping::createLinearLaunch(b, loc, blocks, threads);
  gpu_mapping::nameKernel(launch, "warp_reduction");

  Value warpSize = arith::ConstantIndexOp::create(b, loc, kWarpSize);
  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, warpSize);
  Value warp = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, warps),
      arith::DivUIOp::create(b, loc, tid, warpSize));
  // Whole warps are in or out of range: the shuffles below stay uniform.
  auto inRange = scf::IfOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, warp, outputs),
      /*withElse=*/false);
  b.setInsertionPointToStart(&inRange.getThenRegion().front());
  SmallVector<Value> ivs(ranges.size());
  for (auto [dim, index] :
       llvm::zip(parallelDims, gpu_mapping::delinearize(b, loc, warp, parallelExtents)))
    ivs[dim] = index;

  // Each lane folds every 32nd reduction iteration. When the reduction's
  // size is static and a multiple of `unroll` warp widths, a loop trip takes
  // `unroll` of them: their loads are independent and issue together (one
  // at a time, a warp reducing a norm's 1024 values waited on 32 loads in
  // turn); they still fold into one value, in the same order.
  int64_t unroll = 1;
  if (std::optional<int64_t> size = getConstantIntValue(reductions))
    for (int64_t u : {8, 4, 2})
      if (*size % (kWarpSize * u) == 0) {
        unroll = u;
        break;
      }
  Block &body = op.getRegion().front();
  auto loop = scf::ForOp::create(
      b, loc, lane, reductions,
      arith::ConstantIndexOp::create(b, loc, kWarpSize * unroll),
      ValueRange{identityOf(b, loc, combiner)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value folded = loop.getRegionIterArgs()[0];
    for (int64_t u = 0; u < unroll; ++u) {
      atReductionIteration(b, loc, ivs, reductionDims, reductionExtents,
                           loop.getInductionVar(), kWarpSize * u);
      IRMapping mapping;
      mapInputsAt(b, loc, op, ivs, mapping);
      for (Operation &inner : body.without_terminator()) {
        if (&inner == combiner) {
          Value value = combinedValue(op, combiner);
          folded = combine(b, combiner, folded, mapping.lookupOrDefault(value));
          continue;
        }
        if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
          mapping.map(index.getResult(), ivs[index.getDim()]);
          continue;
        }
        b.clone(inner, mapping);
      }
    }
    scf::YieldOp::create(b, loc, folded);
  }
  // Butterfly across the warp, then lane 0 folds into the output.
  Value partial = loop.getResult(0);
  Value width = arith::ConstantIntOp::create(b, loc, kWarpSize, 32);
  for (int64_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
    Value other = gpu::ShuffleOp::create(
                      b, loc, partial,
                      arith::ConstantIntOp::create(b, loc, offset, 32), width,
                      gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    partial = combine(b, combiner, partial, other);
  }
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  auto first = scf::IfOp::create(
      b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, zero),
      /*withElse=*/false);
  b.setInsertionPointToStart(&first.getThenRegion().front());
  for (int64_t dim : reductionDims)
    ivs[dim] = zero; // the output's map does not use them
  OpOperand *init = op.getDpsInitOperand(0);
  SmallVector<Value> outIndices =
      gpu_mapping::applyMap(b, loc, op.getMatchingIndexingMap(init), ivs);
  Value old = initialValue
                  ? initialValue
                  : memref::LoadOp::create(b, loc, init->get(), outIndices);
  Value result = combine(b, combiner, old, partial);
  if (epilogue)
    result = applyEpilogue(b, loc, epilogue, outIndices, result);
  memref::StoreOp::create(b, loc, result, init->get(), outIndices);
  if (epilogue)
    epilogue.erase();
  if (consumer) {
    b.setInsertionPointAfter(first);
    Value total = combine(b, combiner, initialValue, partial);
    auto rowLoop = scf::ForOp::create(
        b, loc, lane, reductions,
        arith::ConstantIndexOp::create(b, loc, kWarpSize * unroll));
    b.setInsertionPointToStart(rowLoop.getBody());
    Block &consumerBody = consumer.getRegion().front();
    OpOperand *consumerOut = consumer.getDpsInitOperand(0);
    BlockArgument outArg = consumerBody.getArguments().back();
    // All loads of a trip first, then the arithmetic, then the stores: the
    // output may be a view of the buffer the inputs are read from (one
    // arena), so a load after a store would wait for it (measured on the
    // H200: one element at a time, a 1024-wide row took 14-17 us).
    SmallVector<IRMapping> mappings(unroll);
    SmallVector<SmallVector<Value>> iterationIvs, writeIndices;
    for (int64_t u = 0; u < unroll; ++u) {
      atReductionIteration(b, loc, ivs, reductionDims, reductionExtents,
                           rowLoop.getInductionVar(), kWarpSize * u);
      iterationIvs.push_back(ivs);
      mapInputsAt(b, loc, consumer, ivs, mappings[u], init->get(), total);
      writeIndices.push_back(gpu_mapping::applyMap(
          b, loc, consumer.getMatchingIndexingMap(consumerOut), ivs));
      if (!outArg.use_empty())
        mappings[u].map(outArg,
                        memref::LoadOp::create(b, loc, consumerOut->get(),
                                               writeIndices[u]));
    }
    SmallVector<Value> results;
    for (int64_t u = 0; u < unroll; ++u)
      results.push_back(
          cloneBodyAt(b, consumer, iterationIvs[u], mappings[u]));
    for (int64_t u = 0; u < unroll; ++u)
      memref::StoreOp::create(b, loc, results[u], consumerOut->get(),
                              writeIndices[u]);
    consumer.erase();
  }
  op.erase();
  if (fill)
    fill.erase();
  return success();
}

struct MapReductionsToGPUPass final
    : impl::MapReductionsToGPUPassBase<MapReductionsToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> candidates;
    getOperation().walk([&](linalg::GenericOp op) {
      // (Only reductions: an elementwise generic may be erased as the
      // epilogue of one.)
      if (!op->getParentOfType<gpu::LaunchOp>() &&
          !op->getParentOfType<scf::ParallelOp>() &&
          op.getNumReductionLoops() != 0)
        candidates.push_back(op);
    });
    for (linalg::GenericOp op : candidates)
      (void)mapToWarps(op); // the others become one thread per output
  }
};
} // namespace
} // namespace mlir::lm
