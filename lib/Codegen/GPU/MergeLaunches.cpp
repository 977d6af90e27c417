//===- MergeLaunches.cpp - Independent neighbouring kernels as one --------===//
//
// Decode at batch 1 is bound by launches, and a layer holds several kernels
// that do not depend on each other: the q, k and v projections, the gate
// and up projections, the q and k norms and rotations. Two neighbouring
// launches with the same block size, neither writing what the other
// touches, become one launch over both grids: the first blocks run the
// first kernel, the rest the second. Kernel choices on one condition (the
// projections' row counts) are joined first, so their kernels neighbour.
// Launches with dynamic shared memory (the wgmma tiles) merge with launches
// of the same amount.
//
//===----------------------------------------------------------------------===//

#include "../BufferRoots.h"
#include "MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MERGELAUNCHESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
constexpr int64_t kMaxParameterBytes = 4096;

/// The memory a buffer lives in: an allocation or argument, or one slot of
/// the activation arena (lm-plan-arena: slots at different offsets do not
/// overlap; the same offset value is the same slot).
struct Root {
  Value base, offset;
  /// Whether the two may share memory.
  bool mayOverlap(const Root &other) const {
    if (base != other.base)
      return false;
    return !offset || !other.offset || offset == other.offset;
  }
};

/// `value`'s root, a slot of the arena as (arena, offset).
Root rootWithSlot(Value value) {
  Value root = rootOf(value);
  if (auto slot = root.getDefiningOp<memref::ViewOp>())
    return {rootOf(slot.getSource()), slot.getByteShift()};
  return {root, nullptr};
}

/// What a kernel reads and writes, by root; `unknown` when it reads through
/// a tensor map whose buffer is not in sight.
struct Accesses {
  SmallVector<Root> reads, writes;
  bool unknown = false;

  bool conflictsWith(const Accesses &other) const {
    if (unknown || other.unknown)
      return true;
    auto any = [](ArrayRef<Root> as, ArrayRef<Root> bs) {
      return llvm::any_of(as, [&](const Root &a) {
        return llvm::any_of(bs, [&](const Root &b) { return a.mayOverlap(b); });
      });
    };
    return any(writes, other.writes) || any(writes, other.reads) ||
           any(other.writes, reads);
  }
};

Accesses accessesOf(gpu::LaunchOp launch) {
  Accesses result;
  launch.getBody().walk([&](Operation *op) {
    // A TMA copy reads the buffer its tensor map was made of.
    if (auto copy = dyn_cast<nvgpu::TmaAsyncLoadOp>(op)) {
      auto map = copy.getTensorMapDescriptor()
                     .getDefiningOp<nvgpu::TmaCreateDescriptorOp>();
      if (map)
        result.reads.push_back(rootWithSlot(map.getTensor()));
      else
        result.unknown = true;
    }
    // Views touch no memory: their users are the accesses.
    if (isMemoryEffectFree(op))
      return;
    for (Value operand : op->getOperands()) {
      if (!isa<BaseMemRefType>(operand.getType()))
        continue;
      Root root = rootWithSlot(operand);
      // A buffer made inside the kernel is private to it.
      if (launch->isAncestor(root.base.getParentRegion()->getParentOp()))
        continue;
      if (isa<memref::LoadOp, vector::LoadOp>(op))
        result.reads.push_back(root);
      else
        result.writes.push_back(root); // stores, and anything unknown
    }
  });
  return result;
}

/// What launches must share to merge: the block size and the dynamic shared
/// memory (a constant, or none).
struct LaunchShape {
  int64_t threads, dynamicShared;
  bool operator==(const LaunchShape &other) const {
    return threads == other.threads && dynamicShared == other.dynamicShared;
  }
};

/// A 1-D launch of a constant block size, as lm-map-to-gpu and the mapping
/// passes make them.
std::optional<LaunchShape> linearShape(gpu::LaunchOp launch) {
  auto isOne = [](Value v) { return matchPattern(v, m_One()); };
  APInt threads, dynamicShared(32, 0);
  // Private memory is per-thread block arguments a merge would have to
  // carry; none of the templates declares any.
  if (launch.getAsyncToken() ||
      (launch.getDynamicSharedMemorySize() &&
       !matchPattern(launch.getDynamicSharedMemorySize(),
                     m_ConstantInt(&dynamicShared))) ||
      launch.getNumPrivateAttributions() || launch.hasClusterSize() ||
      !launch.getBody().hasOneBlock() || !isOne(launch.getGridSizeY()) ||
      !isOne(launch.getGridSizeZ()) || !isOne(launch.getBlockSizeY()) ||
      !isOne(launch.getBlockSizeZ()) ||
      !matchPattern(launch.getBlockSizeX(), m_ConstantInt(&threads)))
    return std::nullopt;
  // The bodies index blocks by x; the grid's size would change meaning.
  gpu::KernelDim3 grid = launch.getGridSize();
  for (Value size : {grid.x, grid.y, grid.z})
    if (!size.use_empty())
      return std::nullopt;
  for (Value id : {launch.getBlockIds().y, launch.getBlockIds().z})
    if (!id.use_empty())
      return std::nullopt;
  return LaunchShape{threads.getSExtValue(), dynamicShared.getSExtValue()};
}

/// Bytes of kernel parameters `launch` will take once outlined: each value
/// its body captures, a memref as its descriptor (two pointers, offset,
/// sizes and strides).
int64_t parameterBytes(gpu::LaunchOp launch) {
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(launch.getBody(), captured);
  int64_t bytes = 0;
  for (Value value : captured) {
    auto memref = dyn_cast<MemRefType>(value.getType());
    bytes += 8 * (memref ? 3 + 2 * memref.getRank() : 1);
  }
  return bytes;
}

/// The shared memory of a launch merging `first` and `second`: first's
/// buffers, then second's of a type first has none of. A block runs one of
/// the two bodies, so bodies can share a buffer of one type (the q, k and
/// v projections' normalised rows).
SmallVector<Type> mergedWorkgroup(gpu::LaunchOp first, gpu::LaunchOp second) {
  SmallVector<Type> types;
  for (Value buffer : first.getWorkgroupAttributions())
    types.push_back(buffer.getType());
  SmallVector<Type> unused = types;
  for (Value buffer : second.getWorkgroupAttributions()) {
    auto *same = llvm::find(unused, buffer.getType());
    if (same != unused.end())
      unused.erase(same);
    else
      types.push_back(buffer.getType());
  }
  return types;
}

/// Static shared memory bytes of `types` (workgroup memrefs).
int64_t sharedBytes(ArrayRef<Type> types) {
  int64_t bytes = 0;
  for (Type type : types) {
    auto memref = cast<MemRefType>(type);
    bytes += memref.getNumElements() * memref.getElementTypeBitWidth() / 8;
  }
  return bytes;
}

/// Clones `from`'s body into `b`'s insertion point with its block index
/// `blockId`, the rest of its ids and sizes those of `into`, and its shared
/// buffers `into`'s first unclaimed of the same type.
void cloneBody(OpBuilder &b, gpu::LaunchOp from, gpu::LaunchOp into,
               Value blockId) {
  IRMapping mapping;
  SmallVector<Value> buffers(into.getWorkgroupAttributions());
  for (Value buffer : from.getWorkgroupAttributions()) {
    auto *same = llvm::find_if(
        buffers, [&](Value v) { return v.getType() == buffer.getType(); });
    mapping.map(buffer, *same);
    buffers.erase(same);
  }
  mapping.map(from.getBlockIds().x, blockId);
  mapping.map(from.getThreadIds().x, into.getThreadIds().x);
  mapping.map(from.getThreadIds().y, into.getThreadIds().y);
  mapping.map(from.getThreadIds().z, into.getThreadIds().z);
  gpu::KernelDim3 fromBlock = from.getBlockSize(), intoBlock = into.getBlockSize();
  mapping.map(fromBlock.x, intoBlock.x);
  mapping.map(fromBlock.y, intoBlock.y);
  mapping.map(fromBlock.z, intoBlock.z);
  for (Operation &op : from.getBody().front().without_terminator())
    b.clone(op, mapping);
}

/// One launch where `first` was: blocks [0, first's grid) run `first`, the
/// others `second` (whose operands are defined before `first`).
gpu::LaunchOp merge(gpu::LaunchOp first, gpu::LaunchOp second) {
  Location loc = second.getLoc();
  OpBuilder b(first);
  Value firstBlocks = first.getGridSizeX();
  Value blocks = arith::AddIOp::create(b, loc, firstBlocks,
                                       second.getGridSizeX());
  auto merged = gpu::LaunchOp::create(
      b, loc, blocks, second.getGridSizeY(), second.getGridSizeZ(),
      second.getBlockSizeX(), second.getBlockSizeY(), second.getBlockSizeZ(),
      // The same for both (a block runs one body).
      first.getDynamicSharedMemorySize(), /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, mergedWorkgroup(first, second));
  Block &body = merged.getBody().front();
  b.setInsertionPointToStart(&body);
  Value block = merged.getBlockIds().x;
  Value inFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        block, firstBlocks);
  auto choice = scf::IfOp::create(b, loc, inFirst, /*withElse=*/true);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&choice.getThenRegion().front());
  cloneBody(b, first, merged, block);
  b.setInsertionPointToStart(&choice.getElseRegion().front());
  cloneBody(b, second, merged,
            arith::SubIOp::create(b, loc, block, firstBlocks));
  // Kernels of one template (q, k and v streaming) keep its name.
  if (first.getFunctionAttr() == second.getFunctionAttr())
    merged.setFunctionAttr(first.getFunctionAttr());
  first.erase();
  second.erase();
  return merged;
}

/// Moves the host arithmetic `launch` needs (its sizes, the values its body
/// captures: views, dimensions) from after `point` to before it; false,
/// moving nothing, if some of it is not pure.
bool hoistOperands(gpu::LaunchOp launch, Operation *point) {
  Block *block = point->getBlock();
  SetVector<Operation *> toMove;
  SmallVector<Value> worklist(launch->getOperands());
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(launch.getBody(), captured);
  worklist.append(captured.begin(), captured.end());
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != block || def->isBeforeInBlock(point) ||
        toMove.contains(def))
      continue;
    if (def == point || !gpu_mapping::isHostArithmetic(def) ||
        def->getNumRegions())
      return false;
    toMove.insert(def);
    worklist.append(def->operand_begin(), def->operand_end());
  }
  SmallVector<Operation *> ordered(toMove.begin(), toMove.end());
  llvm::sort(ordered, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  for (Operation *op : ordered)
    op->moveBefore(point);
  return true;
}

/// Joins each run of kernel choices in `block` on one condition (resultless
/// `scf.if`s, the projections' row-count choices, with only host arithmetic
/// and views between them: those move above the run) into one branch, so
/// their kernels become neighbours that can merge. Canonicalize joins such
/// ifs only when nothing lies between them, and an arena view for the next
/// projection's output always does.
void joinChoices(Block &block) {
  // Not an early-increment walk: the op after `first` may be the one erased.
  for (Operation *op = block.empty() ? nullptr : &block.front(); op;
       op = op->getNextNode()) {
    auto first = dyn_cast<scf::IfOp>(op);
    if (!first || first.getNumResults() != 0)
      continue;
    while (true) {
      SmallVector<Operation *> between;
      Operation *next = first->getNextNode();
      while (next && !isa<scf::IfOp>(next) && next->getNumRegions() == 0 &&
             gpu_mapping::isHostArithmetic(next)) {
        between.push_back(next);
        next = next->getNextNode();
      }
      auto second = dyn_cast_or_null<scf::IfOp>(next);
      if (!second || second.getNumResults() != 0 ||
          second.getCondition() != first.getCondition())
        break;
      // Their operands are defined above `first` or among them (`first`
      // defines nothing its successors see).
      for (Operation *moved : between)
        moved->moveBefore(first);
      auto append = [](Region &from, Region &into) {
        if (from.empty())
          return;
        if (into.empty()) {
          OpBuilder b(into.getContext());
          b.createBlock(&into);
          scf::YieldOp::create(b, from.getLoc());
        }
        Block &source = from.front();
        source.getTerminator()->erase();
        into.front().getOperations().splice(
            into.front().getTerminator()->getIterator(),
            source.getOperations());
      };
      append(second.getThenRegion(), first.getThenRegion());
      append(second.getElseRegion(), first.getElseRegion());
      second.erase();
    }
  }
}

/// Merges launches in `block` (and in the host blocks nested in it): each
/// launch joins the earliest one of its block size it can move up to, past
/// launches it is independent of, with only host arithmetic in between
/// (moved up with it). Earliest, so that a q norm's statistics join the k
/// norm's, and the two normalisations then join each other.
void mergeInBlock(Block &block) {
  joinChoices(block);
  struct Candidate {
    gpu::LaunchOp launch;
    std::optional<LaunchShape> shape;
    Accesses accesses;
  };
  SmallVector<Candidate> window;
  for (Operation &op : llvm::make_early_inc_range(block)) {
    auto launch = dyn_cast<gpu::LaunchOp>(&op);
    if (!launch) {
      // Host arithmetic moves; anything else (a copy, a free, a host
      // branch) is an order the kernels keep.
      if (!gpu_mapping::isHostArithmetic(&op))
        window.clear();
      for (Region &region : op.getRegions())
        for (Block &nested : region)
          mergeInBlock(nested);
      continue;
    }
    Candidate next{launch, linearShape(launch), accessesOf(launch)};
    // The earliest launch it can join: it moves up past every launch
    // after that one, so it must be independent of all of them.
    Candidate *target = nullptr;
    for (Candidate &earlier : llvm::reverse(window)) {
      if (earlier.accesses.conflictsWith(next.accesses))
        break;
      if (next.shape && earlier.shape == next.shape)
        target = &earlier;
    }
    // Parameters stay within what any PTX version takes (4 KB), shared
    // memory within what a block may declare statically.
    bool merged = target &&
                  parameterBytes(target->launch) + parameterBytes(launch) <=
                      kMaxParameterBytes &&
                  sharedBytes(mergedWorkgroup(target->launch, launch)) <=
                      gpu_target::kStaticSharedBytes &&
                  hoistOperands(launch, target->launch);
    if (merged) {
      target->launch = merge(target->launch, launch);
      target->accesses = accessesOf(target->launch);
    } else {
      window.push_back(std::move(next));
    }
  }
}

struct MergeLaunchesPass final
    : impl::MergeLaunchesPassBase<MergeLaunchesPass> {
  using Base::Base;
  void runOnOperation() override {
    for (Block &block : getOperation().getBody())
      mergeInBlock(block);
  }
};
} // namespace
} // namespace mlir::lm
