//===- FoldScatterCopies.cpp - Stores that also scatter their value -------===//
//
// lm-lower-state writes a cache update as a scatter: a parallel loop over
// the new keys (a temporary) that stores each one, converted, at its
// sequence's position in the cache when the sequence holds that token. On
// the GPU that loop is a kernel per cache per layer; on the host, a pass
// over memory. The ops that compute the temporary store each element with
// its indices, so each of those stores can do the loop's work for its
// element: the loop goes, and the temporary with it when nothing else
// reads it.
//
//===----------------------------------------------------------------------===//

#include "BufferRoots.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::lm {
#define GEN_PASS_DEF_FOLDSCATTERCOPIESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// A view of the same elements in another shape: indices map one to one.
bool isReshape(Operation *op) {
  return isa_and_nonnull<memref::ExpandShapeOp, memref::CollapseShapeOp,
                         memref::CastOp>(op);
}

/// The temporary `value` shows in another shape (through reshapes and
/// casts): an allocation, or a slot of lm-plan-arena's arena. Null for
/// anything else (an argument, a subview).
Value temporaryOf(Value value) {
  while (isReshape(value.getDefiningOp()))
    value = value.getDefiningOp()->getOperand(0);
  if (isa_and_nonnull<memref::AllocOp, memref::ViewOp>(value.getDefiningOp()))
    return value;
  return nullptr;
}

/// The reshapes from the temporary to `value`, the temporary's first.
SmallVector<Operation *> reshapesTo(Value value) {
  SmallVector<Operation *> chain;
  while (isReshape(value.getDefiningOp())) {
    chain.push_back(value.getDefiningOp());
    value = value.getDefiningOp()->getOperand(0);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

/// A reshape's groups with the sizes of the finer side's dimensions.
struct Groups {
  SmallVector<ReassociationIndices> reassociation;
  ArrayRef<int64_t> fineShape;
  /// Whether the op's result is the finer side (an expand_shape).
  bool resultIsFine;
};

std::optional<Groups> groupsOf(Operation *reshape) {
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(reshape))
    return Groups{expand.getReassociationIndices(),
                  expand.getResultType().getShape(), true};
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(reshape))
    return Groups{collapse.getReassociationIndices(),
                  collapse.getSrcType().getShape(), false};
  return std::nullopt; // a cast
}

/// Whether indices map across `reshape` with constants: in each group every
/// finer dimension but the first has a static size.
bool mapsStatically(Operation *reshape) {
  std::optional<Groups> groups = groupsOf(reshape);
  if (!groups)
    return true;
  for (const ReassociationIndices &group : groups->reassociation)
    for (int64_t d : ArrayRef(group).drop_front())
      if (ShapedType::isDynamic(groups->fineShape[d]))
        return false;
  return true;
}

/// Indices of the finer side to the coarser one (row-major linearisation
/// within each group).
SmallVector<Value> toCoarse(OpBuilder &b, Location loc, const Groups &groups,
                            ValueRange fine) {
  SmallVector<Value> coarse;
  for (const ReassociationIndices &group : groups.reassociation) {
    Value index = fine[group.front()];
    for (int64_t d : ArrayRef(group).drop_front()) {
      Value size = arith::ConstantIndexOp::create(b, loc, groups.fineShape[d]);
      index = b.createOrFold<arith::AddIOp>(
          loc, b.createOrFold<arith::MulIOp>(loc, index, size), fine[d]);
    }
    coarse.push_back(index);
  }
  return coarse;
}

/// Indices of the coarser side to the finer one.
SmallVector<Value> toFine(OpBuilder &b, Location loc, const Groups &groups,
                          ValueRange coarse) {
  SmallVector<Value> fine(groups.fineShape.size());
  for (auto [index, group] : llvm::zip(coarse, groups.reassociation)) {
    Value rest = index;
    for (int64_t d : llvm::reverse(ArrayRef(group).drop_front())) {
      Value size = arith::ConstantIndexOp::create(b, loc, groups.fineShape[d]);
      fine[d] = b.createOrFold<arith::RemUIOp>(loc, rest, size);
      rest = b.createOrFold<arith::DivUIOp>(loc, rest, size);
    }
    fine[group.front()] = rest;
  }
  return fine;
}

/// Indices into `from` as indices into `to`, both reshapes of one
/// temporary: up to the temporary, then down.
SmallVector<Value> mapIndices(OpBuilder &b, Location loc, Value from, Value to,
                              ValueRange indices) {
  SmallVector<Value> current(indices);
  for (Operation *reshape : llvm::reverse(reshapesTo(from)))
    if (std::optional<Groups> groups = groupsOf(reshape))
      current = groups->resultIsFine ? toCoarse(b, loc, *groups, current)
                                     : toFine(b, loc, *groups, current);
  for (Operation *reshape : reshapesTo(to))
    if (std::optional<Groups> groups = groupsOf(reshape))
      current = groups->resultIsFine ? toFine(b, loc, *groups, current)
                                     : toCoarse(b, loc, *groups, current);
  return current;
}

/// The size `memref` was made with along `d`, when its defining op says.
OpFoldResult madeSize(Value memref, int64_t d) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.isDynamicDim(d))
    return IntegerAttr::get(IndexType::get(memref.getContext()),
                            type.getDimSize(d));
  Operation *def = memref.getDefiningOp();
  if (auto alloc = dyn_cast_or_null<memref::AllocOp>(def))
    return alloc.getMixedSizes()[d];
  if (auto view = dyn_cast_or_null<memref::ViewOp>(def))
    return view.getSizes()[type.getDynamicDimIndex(d)];
  if (auto expand = dyn_cast_or_null<memref::ExpandShapeOp>(def))
    return expand.getMixedOutputShape()[d];
  return nullptr;
}

/// Whether a loop bound of `size` covers dimension `d` of `memref` exactly.
bool isSizeOf(Value size, Value memref, int64_t d) {
  if (auto dim = size.getDefiningOp<memref::DimOp>())
    if (dim.getSource() == memref && dim.getConstantIndex() == d)
      return true;
  OpFoldResult made = madeSize(memref, d);
  return made && isEqualConstantIntOrValue(made, size);
}

/// Whether `value` is computed from `iv`.
bool dependsOn(Value value, Value iv, llvm::SmallDenseSet<Value> &seen) {
  if (value == iv)
    return true;
  Operation *def = value.getDefiningOp();
  if (!def || !seen.insert(value).second)
    return false;
  return llvm::any_of(def->getOperands(), [&](Value operand) {
    return dependsOn(operand, iv, seen);
  });
}

/// Whether every loop around `write` (up to `block`) picks a different
/// element with each iteration. A loop whose induction variable the indices
/// do not use stores partial values (a reduction's running sum, as
/// `convert-linalg-to-loops` writes it): the scatter would store each.
bool storesEachElementOnce(Operation *write, ValueRange indices, Block *block) {
  for (Operation *op = write->getParentOp(); op && op->getBlock() != block;
       op = op->getParentOp()) {
    SmallVector<Value> ivs;
    if (auto loop = dyn_cast<scf::ForOp>(op))
      ivs.push_back(loop.getInductionVar());
    else if (auto loop = dyn_cast<scf::ParallelOp>(op))
      llvm::append_range(ivs, loop.getInductionVars());
    else if (isa<LoopLikeOpInterface>(op))
      return false;
    for (Value iv : ivs) {
      llvm::SmallDenseSet<Value> seen;
      if (!llvm::any_of(
              indices, [&](Value index) { return dependsOn(index, iv, seen); }))
        return false;
    }
  }
  return true;
}

/// A scatter loop over a temporary and the stores that compute it.
struct ScatterCopy {
  scf::ParallelOp loop;
  /// The loop's one load of the temporary, at the loop's indices.
  memref::LoadOp read;
  Value temporary;
  /// `memref.store`s and `vector.store`s into the temporary or a reshape.
  SmallVector<Operation *> writes;
  /// Whether anything but the loop reads the temporary.
  bool otherReaders = false;
  /// Constants the loop's body uses that are defined after the first
  /// writer: cloned where the body is.
  SmallVector<Value> lateConstants;
};

/// The memref a write stores into.
Value writtenMemref(Operation *write) {
  if (auto store = dyn_cast<memref::StoreOp>(write))
    return store.getMemRef();
  return cast<vector::StoreOp>(write).getBase();
}

std::optional<ScatterCopy> matchScatter(scf::ParallelOp loop,
                                        DominanceInfo &dominance) {
  ScatterCopy c{loop, nullptr, nullptr, {}, false, {}};
  if (loop->getNumResults() != 0 ||
      !llvm::all_of(loop.getLowerBound(), isZeroInteger) ||
      !llvm::all_of(loop.getStep(), isOneInteger))
    return std::nullopt;

  // The body: pure ops and branches, one load of a temporary at the loop's
  // indices, loads and stores of other buffers.
  ValueRange ivs = loop.getInductionVars();
  llvm::SmallDenseSet<Value> readRoots, writeRoots;
  SmallVector<Value> externals;
  WalkResult body = loop.getBody()->walk([&](Operation *op) {
    if (auto load = dyn_cast<memref::LoadOp>(op);
        load && temporaryOf(load.getMemRef())) {
      if (c.read || load.getIndices() != ivs)
        return WalkResult::interrupt();
      c.read = load; // replaced by the value stored
      return WalkResult::advance();
    }
    for (Value operand : op->getOperands())
      if (!loop.getRegion().isAncestor(operand.getParentRegion()))
        externals.push_back(operand);
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      readRoots.insert(rootOf(load.getMemRef()));
      return WalkResult::advance();
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      writeRoots.insert(rootOf(store.getMemRef()));
      return WalkResult::advance();
    }
    if (isa<scf::IfOp, scf::YieldOp, scf::ReduceOp>(op) ||
        isMemoryEffectFree(op))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  if (body.wasInterrupted() || !c.read)
    return std::nullopt;
  Value source = c.read.getMemRef();
  c.temporary = temporaryOf(source);
  for (auto [d, bound] : llvm::enumerate(loop.getUpperBound()))
    if (!isSizeOf(bound, source, d))
      return std::nullopt;
  if (writeRoots.contains(rootOf(c.temporary)) ||
      !llvm::all_of(reshapesTo(source), mapsStatically))
    return std::nullopt;

  // Every use of the temporary: its stores, sizes, the free, other loads.
  Block *block = loop->getBlock();
  SmallVector<Operation *> accesses;
  SmallVector<Value> aliases{c.temporary};
  while (!aliases.empty()) {
    Value alias = aliases.pop_back_val();
    for (Operation *user : alias.getUsers()) {
      if (isReshape(user)) {
        if (!llvm::all_of(reshapesTo(user->getResult(0)), mapsStatically))
          return std::nullopt;
        aliases.push_back(user->getResult(0));
      } else if (auto store = dyn_cast<memref::StoreOp>(user);
                 store && store.getMemRef() == alias) {
        c.writes.push_back(user);
      } else if (auto store = dyn_cast<vector::StoreOp>(user);
                 store && store.getBase() == alias &&
                 store.getVectorType().getRank() == 1) {
        c.writes.push_back(user);
      } else if (isa<memref::LoadOp>(user)) {
        c.otherReaders |= user != c.read;
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
        if (dealloc->isBeforeInBlock(loop))
          return std::nullopt;
        continue;
      } else if (!isa<memref::DimOp>(user)) {
        return std::nullopt;
      }
      if (isa<memref::DimOp>(user) || user == c.read || isReshape(user))
        continue;
      if (!isa<memref::LoadOp>(user)) {
        ValueRange indices = isa<memref::StoreOp>(user)
                                 ? cast<memref::StoreOp>(user).getIndices()
                                 : cast<vector::StoreOp>(user).getIndices();
        if (!storesEachElementOnce(user, indices, block))
          return std::nullopt;
      }
      // Any other access comes before the loop, in its block or nested in
      // an op of it.
      Operation *inBlock = block->findAncestorOpInBlock(*user);
      if (!inBlock || !inBlock->isBeforeInBlock(loop))
        return std::nullopt;
      accesses.push_back(inBlock);
    }
  }
  if (c.writes.empty())
    return std::nullopt;
  Operation *first =
      *llvm::min_element(accesses, [](Operation *a, Operation *b) {
        return a->isBeforeInBlock(b);
      });

  // The loop's stores move to the writers: from the first writer to the
  // loop nothing may touch what it stores to, or write what it reads
  // (loads, sizes and views of those buffers are fine).
  for (Operation *op = first; op != loop; op = op->getNextNode()) {
    if (isMemoryEffectFree(op))
      continue;
    for (Value root : writeRoots)
      if (touches(op, root))
        return std::nullopt;
    WalkResult writesReads = op->walk([&](Operation *inner) {
      if (isa<memref::LoadOp, vector::LoadOp, memref::DimOp,
              ViewLikeOpInterface>(inner))
        return WalkResult::advance();
      for (Value operand : inner->getOperands())
        if (isa<BaseMemRefType>(operand.getType()) &&
            readRoots.contains(rootOf(operand)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (writesReads.wasInterrupted())
      return std::nullopt;
  }

  // What the body uses from outside must be known at the first writer.
  for (Value value : externals) {
    if (dominance.properlyDominates(value, first))
      continue;
    if (!matchPattern(value, m_Constant()))
      return std::nullopt;
    c.lateConstants.push_back(value);
  }
  return c;
}

/// The loop's body for the element `value` written at `indices` of
/// `memref`, at `b`'s insertion point.
void emitScatter(OpBuilder &b, Location loc, ScatterCopy &c, Value memref,
                 ValueRange indices, Value value) {
  IRMapping mapping;
  for (Value constant : c.lateConstants)
    mapping.map(constant, b.clone(*constant.getDefiningOp())->getResult(0));
  mapping.map(c.loop.getInductionVars(),
              mapIndices(b, loc, memref, c.read.getMemRef(), indices));
  for (Operation &op : c.loop.getBody()->without_terminator())
    b.clone(op, mapping);
  Operation *read = mapping.lookup(c.read.getResult()).getDefiningOp();
  read->getResult(0).replaceAllUsesWith(value);
  read->erase();
}

/// Adds to `dead` the users of `value` when all are frees, unused sizes or
/// reshapes whose users are too (a reshape after its users).
bool collectDeadUsers(Value value, SmallVectorImpl<Operation *> &dead) {
  for (Operation *user : value.getUsers()) {
    if (isReshape(user)) {
      if (!collectDeadUsers(user->getResult(0), dead))
        return false;
    } else if (!isa<memref::DeallocOp>(user) &&
               !(isa<memref::DimOp>(user) && user->use_empty())) {
      return false;
    }
    dead.push_back(user);
  }
  return true;
}

void fold(ScatterCopy &c) {
  for (Operation *write : c.writes) {
    OpBuilder b(write->getContext());
    b.setInsertionPointAfter(write);
    Location loc = write->getLoc();
    Value memref = writtenMemref(write);
    if (auto store = dyn_cast<memref::StoreOp>(write)) {
      emitScatter(b, loc, c, memref, store.getIndices(), store.getValue());
      continue;
    }
    // A vector along the innermost dimension: one element at a time.
    auto store = cast<vector::StoreOp>(write);
    for (int64_t i = 0, e = store.getVectorType().getDimSize(0); i < e; ++i) {
      Value element =
          vector::ExtractOp::create(b, loc, store.getValueToStore(), i);
      SmallVector<Value> indices(store.getIndices());
      indices.back() = b.createOrFold<arith::AddIOp>(
          loc, indices.back(), arith::ConstantIndexOp::create(b, loc, i));
      emitScatter(b, loc, c, memref, indices, element);
    }
  }
  c.loop->erase();
  if (c.otherReaders)
    return;
  for (Operation *write : c.writes)
    write->erase();
  SmallVector<Operation *> dead;
  if (!collectDeadUsers(c.temporary, dead))
    return;
  for (Operation *op : dead)
    op->erase();
  c.temporary.getDefiningOp()->erase();
}

struct FoldScatterCopiesPass final
    : impl::FoldScatterCopiesPassBase<FoldScatterCopiesPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<scf::ParallelOp> loops;
    func.walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
    auto &dominance = getAnalysis<DominanceInfo>();
    // One at a time: a folded scatter writes its buffer earlier, which the
    // next one's checks must see.
    for (scf::ParallelOp loop : loops)
      if (std::optional<ScatterCopy> c = matchScatter(loop, dominance))
        fold(*c);
  }
};
} // namespace
} // namespace mlir::lm
