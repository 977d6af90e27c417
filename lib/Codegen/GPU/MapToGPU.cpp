//===- MapToGPU.cpp - Bufferized loops -> GPU kernels and host control ----===//
//
// After this pass the body of a function orchestrates only: launches,
// device allocations, index arithmetic on sizes and host control flow. The
// kernels themselves are the loop bodies, unchanged; tiling them for shared
// memory and tensor cores is the job of the passes before this one.
//
//===----------------------------------------------------------------------===//

#include "MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/ForwardAbi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MAPTOGPUPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// Threads per block of a mapped parallel loop.
constexpr int64_t kBlockSize = gpu_target::kBlockThreads;

bool isDeviceCode(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() ||
         op->getParentOfType<scf::ParallelOp>();
}

/// Parallel loops and kernels made by an earlier pass: host control flow
/// around them stays on the host.
bool containsParallelLoop(Operation *op) {
  return op
      ->walk([](Operation *inner) {
        return isa<scf::ParallelOp, gpu::LaunchOp>(inner)
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

/// The function argument a view of a buffer is ultimately taken from, if any.
BlockArgument rootArgument(Value buffer) {
  while (auto view = buffer.getDefiningOp<ViewLikeOpInterface>())
    buffer = view.getViewSource();
  return dyn_cast<BlockArgument>(buffer);
}

/// Weights and inputs are only ever read by the function.
bool isReadOnlyArgument(BlockArgument arg) {
  auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  return func && (func.getArgAttr(arg.getArgNumber(), abi::kWeight) ||
                  func.getArgAttr(arg.getArgNumber(), abi::kStackedWeight) ||
                  func.getArgAttr(arg.getArgNumber(), abi::kName));
}

/// Creates a 1-D `gpu.launch`, leaves `b` at the start of its body, and
/// returns it with the global thread index.
std::pair<gpu::LaunchOp, Value> createLaunch(OpBuilder &b, Location loc,
                                             Value blocks, Value threads) {
  gpu::LaunchOp launch =
      gpu_mapping::createLinearLaunch(b, loc, blocks, threads);
  Value index = b.createOrFold<arith::AddIOp>(
      loc,
      b.createOrFold<arith::MulIOp>(loc, launch.getBlockIds().x,
                                    launch.getBlockSize().x),
      launch.getThreadIds().x);
  return {launch, index};
}

class HostMapper {
public:
  LogicalResult mapBlock(Block &block) {
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (failed(mapOp(&op)))
        return failure();
    }
    return success();
  }

private:
  LogicalResult mapOp(Operation *op) {
    if (auto loop = dyn_cast<scf::ParallelOp>(op))
      return mapParallelLoop(loop);
    if (auto alloc = dyn_cast<memref::AllocOp>(op))
      return mapAlloc(alloc);
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      OpBuilder b(dealloc);
      gpu::DeallocOp::create(b, dealloc.getLoc(), Type(), ValueRange(),
                             dealloc.getMemref());
      dealloc.erase();
      return success();
    }
    if (auto copy = dyn_cast<memref::CopyOp>(op))
      return mapCopy(copy);
    if (auto load = dyn_cast<memref::LoadOp>(op))
      return mapHostLoad(load);
    if (isa<scf::ForOp, scf::IfOp>(op) && containsParallelLoop(op)) {
      for (Region &region : op->getRegions())
        for (Block &block : region)
          if (failed(mapBlock(block)))
            return failure();
      return success();
    }
    if (gpu_mapping::isHostArithmetic(op) ||
        isa<gpu::LaunchOp, gpu::AllocOp, gpu::DeallocOp, gpu::MemcpyOp>(op) ||
        op->hasTrait<OpTrait::IsTerminator>())
      return success();
    return mapSerial(op);
  }

  /// One thread per iteration, the iteration space linearised.
  LogicalResult mapParallelLoop(scf::ParallelOp loop) {
    if (loop.getNumResults() != 0)
      return loop.emitOpError("with reductions cannot be mapped to the GPU");
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    SmallVector<Value> counts;
    Value total;
    for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(),
                                         loop.getStep())) {
      Value count = b.createOrFold<arith::CeilDivUIOp>(
          loc, b.createOrFold<arith::SubIOp>(loc, ub, lb), step);
      counts.push_back(count);
      total = total ? b.createOrFold<arith::MulIOp>(loc, total, count) : count;
    }
    // At least one block: an empty iteration space launches threads that
    // all fail the range check (a guard on the host would split the stream
    // of launches into separately synchronised regions).
    Value block = arith::ConstantIndexOp::create(b, loc, kBlockSize);
    Value blocks = b.createOrFold<arith::MaxUIOp>(
        loc, b.createOrFold<arith::CeilDivUIOp>(loc, total, block),
        arith::ConstantIndexOp::create(b, loc, 1));
    auto [launch, index] = createLaunch(b, loc, blocks, block);
    Value inRange =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index, total);
    auto active = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
    b.setInsertionPointToStart(&active.getThenRegion().front());
    // Delinearise, innermost dimension fastest.
    IRMapping mapping;
    for (auto [d, i] :
         llvm::enumerate(gpu_mapping::delinearize(b, loc, index, counts))) {
      Value iv = b.createOrFold<arith::AddIOp>(
          loc, loop.getLowerBound()[d],
          b.createOrFold<arith::MulIOp>(loc, i, loop.getStep()[d]));
      mapping.map(loop.getInductionVars()[d], iv);
    }
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);
    loop.erase();
    return success();
  }

  /// Runs `op` in one thread.
  LogicalResult mapSerial(Operation *op) {
    for (Value result : op->getResults())
      if (!result.use_empty())
        return op->emitOpError(
            "reads device memory into a value the host uses; it cannot be "
            "mapped to the GPU");
    OpBuilder b(op);
    Value one = arith::ConstantIndexOp::create(b, op->getLoc(), 1);
    gpu::LaunchOp launch =
        gpu_mapping::createLinearLaunch(b, op->getLoc(), one, one);
    op->moveBefore(launch.getBody().front().getTerminator());
    return success();
  }

  LogicalResult mapAlloc(memref::AllocOp alloc) {
    if (!alloc.getSymbolOperands().empty())
      return alloc.emitOpError("with symbol operands is not supported");
    OpBuilder b(alloc);
    auto device = gpu::AllocOp::create(
        b, alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
        /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
        /*symbolOperands=*/ValueRange(), /*hostShared=*/false);
    device->setDiscardableAttrs(alloc->getDiscardableAttrDictionary());
    alloc.replaceAllUsesWith(device.getMemref());
    alloc.erase();
    return success();
  }

  /// dst[i...] = src[i...] as a parallel loop, then mapped.
  LogicalResult mapCopy(memref::CopyOp copy) {
    Location loc = copy.getLoc();
    OpBuilder b(copy);
    auto type = cast<MemRefType>(copy.getTarget().getType());
    SmallVector<Value> lbs, ubs, steps;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      lbs.push_back(zero);
      steps.push_back(one);
      ubs.push_back(memref::DimOp::create(b, loc, copy.getTarget(), d));
    }
    auto loop = scf::ParallelOp::create(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
          Value v = memref::LoadOp::create(nb, nloc, copy.getSource(), ivs);
          memref::StoreOp::create(nb, nloc, v, copy.getTarget(), ivs);
        });
    copy.erase();
    return mapParallelLoop(loop);
  }

  /// A scalar the host reads from device memory.
  LogicalResult mapHostLoad(memref::LoadOp load) {
    BlockArgument root = rootArgument(load.getMemref());
    bool usedOnDevice = llvm::all_of(load->getUsers(), isDeviceCode);
    if (root && isReadOnlyArgument(root) && usedOnDevice) {
      // Never written: reading it again where it is used is the same value.
      for (OpOperand &use : llvm::make_early_inc_range(load->getUses())) {
        OpBuilder b(use.getOwner());
        use.set(b.clone(*load)->getResult(0));
      }
      load.erase();
      return success();
    }
    // Through a one-element device buffer, copied back to the host.
    Location loc = load.getLoc();
    OpBuilder b(load);
    Type element = load.getType();
    auto scalar = MemRefType::get({1}, element);
    auto staging = gpu::AllocOp::create(b, loc, scalar, Type(), ValueRange(),
                                        ValueRange(), ValueRange(), false);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    {
      OpBuilder::InsertionGuard guard(b);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      gpu_mapping::createLinearLaunch(b, loc, one, one);
      Value v = memref::LoadOp::create(b, loc, load.getMemref(),
                                       load.getIndices());
      memref::StoreOp::create(b, loc, v, staging.getMemref(), zero);
    }
    auto host = memref::AllocaOp::create(b, loc, scalar);
    gpu::MemcpyOp::create(b, loc, Type(), ValueRange(), host,
                          staging.getMemref());
    gpu::DeallocOp::create(b, loc, Type(), ValueRange(), staging.getMemref());
    Value value = memref::LoadOp::create(b, loc, host, zero);
    load.replaceAllUsesWith(value);
    load.erase();
    return success();
  }
};

/// Kernels cannot see host-side globals: reference them from inside.
void sinkGlobals(func::FuncOp func) {
  func.walk([](gpu::LaunchOp launch) {
    SmallVector<OpOperand *> uses;
    launch.getBody().walk([&](Operation *op) {
      for (OpOperand &operand : op->getOpOperands())
        if (auto global = operand.get().getDefiningOp<memref::GetGlobalOp>())
          if (!launch->isAncestor(global))
            uses.push_back(&operand);
    });
    for (OpOperand *use : uses) {
      OpBuilder b(use->getOwner());
      use->set(b.clone(*use->get().getDefiningOp())->getResult(0));
    }
  });
}

struct MapToGPUPass final : impl::MapToGPUPassBase<MapToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    HostMapper mapper;
    for (Block &block : func.getBody())
      if (failed(mapper.mapBlock(block)))
        return signalPassFailure();
    sinkGlobals(func);
  }
};
} // namespace
} // namespace mlir::lm
