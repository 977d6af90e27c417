//===- ElideCopies.cpp - Write temporaries where they are copied to -------===//
//
// Bufferization computes a cache update into a temporary and copies it into
// the cache (`linalg.copy ins(%keys) outs(subview(%cache))`), and the logits
// into a temporary copied to the output argument: a copy kernel per cache
// per layer on the GPU, a pass over memory on the host. When nothing else
// touches the destination while the temporary is alive, the ops that write
// the temporary write the destination instead and the copy goes. A
// temporary bufferization reuses for every layer's value is rewritten one
// part of its life (overwrite ... copy) at a time.
//
//===----------------------------------------------------------------------===//

#include "BufferRoots.h"
#include "Rematerializer.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::lm {
#define GEN_PASS_DEF_ELIDECOPIESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// A copy of a whole temporary (or of a reshape of one) into a view of a
/// function argument, and what writing the destination directly takes.
struct ElidableCopy {
  Operation *copy;
  memref::AllocOp temporary;
  /// Between the temporary and the copy: an expand_shape (heads split), or
  /// a collapse_shape.
  Operation *reshape;
  memref::DeallocOp dealloc;
  SmallVector<Operation *> users; ///< Of the temporary, before the copy.
  Value destination;

  /// The op of the block that first uses the temporary.
  Operation *firstUser() {
    Operation *first = copy;
    for (Operation *user : users)
      if (user->isBeforeInBlock(first))
        first = user;
    return first;
  }
};

/// Whether `op` gives every element of `buffer` a value without reading
/// it: a fill, a copy into it, or an all-parallel generic writing it
/// through a permutation that does not read its old value.
bool overwrites(Operation *op, Value buffer) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.getOutputs()[0] == buffer;
  if (auto copy = dyn_cast<linalg::CopyOp>(op))
    return copy.getOutputs()[0] == buffer && copy.getInputs()[0] != buffer;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInits() != 1 ||
      generic.getNumReductionLoops() != 0 ||
      generic.getDpsInitOperand(0)->get() != buffer ||
      llvm::is_contained(generic.getDpsInputs(), buffer))
    return false;
  OpOperand *init = generic.getDpsInitOperand(0);
  return generic.getMatchingIndexingMap(init).isPermutation() &&
         !generic.payloadUsesValueFromOperand(init);
}

/// The copy, if the temporary's value it copies can be computed in the
/// destination instead. Bufferization may reuse one temporary for the same
/// value of every layer: the part of its life that ends at this copy
/// starts at its last full overwrite before it (or its allocation), and
/// the next use after the copy must overwrite it again.
std::optional<ElidableCopy> matchCopy(Operation *copy, Value source,
                                      Value destination) {
  ElidableCopy c{copy, nullptr, nullptr, nullptr, {}, destination};
  if (auto expand = source.getDefiningOp<memref::ExpandShapeOp>()) {
    c.reshape = expand;
    source = expand.getSrc();
  } else if (auto collapse = source.getDefiningOp<memref::CollapseShapeOp>()) {
    c.reshape = collapse;
    source = collapse.getSrc();
  }
  // Besides the copy, only the reshape's sizes may be asked for.
  if (c.reshape)
    for (Operation *user : c.reshape->getUsers()) {
      auto dim = dyn_cast<memref::DimOp>(user);
      if (user != copy && !(dim && dim.getConstantIndex()))
        return std::nullopt;
    }
  c.temporary = source.getDefiningOp<memref::AllocOp>();
  Block *block = copy->getBlock();
  if (!c.temporary || c.temporary->getBlock() != block ||
      !isa<BlockArgument>(rootOf(destination)))
    return std::nullopt;

  // Direct users in program order; the copy (through its reshape) is one.
  SmallVector<Operation *> users;
  for (Operation *user : c.temporary->getUsers()) {
    if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
      c.dealloc = dealloc;
      continue;
    }
    // A use inside a kernel choice (scf.if) counts as the choice's.
    Operation *inBlock = block->findAncestorOpInBlock(*user);
    if (!inBlock || (inBlock != user && !isa<scf::IfOp>(inBlock)))
      return std::nullopt;
    if (inBlock != c.reshape)
      users.push_back(inBlock);
  }
  if (!c.dealloc)
    return std::nullopt;
  llvm::sort(users, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  users.erase(llvm::unique(users), users.end());
  auto at = llvm::find_if(users, [&](Operation *user) {
    return !user->isBeforeInBlock(copy) && user != copy;
  });
  // The next use after the copy overwrites the temporary, if there is one.
  if (at != users.end() && !overwrites(*at, c.temporary))
    return std::nullopt;
  auto begin = users.begin();
  for (auto it = users.begin(); it != at; ++it)
    if (*it != copy && overwrites(*it, c.temporary))
      begin = it;
  for (auto it = begin; it != at; ++it) {
    if (*it == copy)
      continue;
    // Destination-style ops (structured ops, kernel ops) read and write
    // it, directly or in the branches of a kernel choice; anything else (a
    // view, a loop nest) would need its own rewrite.
    WalkResult direct = (*it)->walk([&](Operation *inner) {
      bool uses =
          llvm::is_contained(inner->getOperands(), c.temporary.getResult());
      if (uses && !isa<DestinationStyleOpInterface, memref::DimOp>(inner))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (direct.wasInterrupted())
      return std::nullopt;
    c.users.push_back(*it);
  }
  if (c.users.empty())
    return std::nullopt;

  // In that part of its life the temporary is only used directly (no view
  // of it but the copy's reshape), and the destination's contents at the
  // copy must be the temporary's: nothing may read or write any view of
  // the destination's buffer. (Views themselves touch no memory.)
  Value root = rootOf(destination);
  for (Operation *op = c.firstUser(); op != copy; op = op->getNextNode()) {
    if (op == c.reshape || isMemoryEffectFree(op))
      continue;
    bool throughView = false;
    op->walk([&](Operation *inner) {
      for (Value v : inner->getOperands())
        if (v != c.temporary.getResult() && isa<BaseMemRefType>(v.getType()) &&
            rootOf(v) == c.temporary.getResult())
          throughView = true;
    });
    if (throughView || touches(op, root))
      return std::nullopt;
  }
  return c;
}

/// The destination (collapsed or expanded back to the temporary's shape when
/// a reshape was in between) before the temporary's first user.
Value destinationView(ElidableCopy &c, DominanceInfo &dominance) {
  Operation *first = c.firstUser();
  Value view = Rematerializer(first, dominance).get(c.destination);
  if (!view)
    return nullptr;
  OpBuilder b(first);
  Location loc = c.copy->getLoc();
  MemRefType temporaryType = c.temporary.getType();
  if (auto expand = dyn_cast_or_null<memref::ExpandShapeOp>(c.reshape)) {
    auto reassociation = expand.getReassociationIndices();
    if (!memref::CollapseShapeOp::isGuaranteedCollapsible(
            cast<MemRefType>(view.getType()), reassociation))
      return nullptr;
    view = memref::CollapseShapeOp::create(b, loc, view, reassociation);
  } else if (auto collapse =
                 dyn_cast_or_null<memref::CollapseShapeOp>(c.reshape)) {
    auto reassociation = collapse.getReassociationIndices();
    FailureOr<MemRefType> expanded = memref::ExpandShapeOp::computeExpandedType(
        cast<MemRefType>(view.getType()), temporaryType.getShape(),
        reassociation);
    if (failed(expanded))
      return nullptr;
    SmallVector<OpFoldResult> shape = c.temporary.getMixedSizes();
    view = memref::ExpandShapeOp::create(b, loc, *expanded, view,
                                         reassociation, shape);
  }
  auto viewType = cast<MemRefType>(view.getType());
  auto wanted =
      MemRefType::get(temporaryType.getShape(), viewType.getElementType(),
                      viewType.getLayout(), viewType.getMemorySpace());
  if (wanted == viewType)
    return view;
  if (!memref::CastOp::areCastCompatible(viewType, wanted))
    return nullptr;
  return memref::CastOp::create(b, loc, wanted, view);
}

/// Dimension `d` of `c`'s reshape, from the temporary's sizes.
Value reshapedSize(OpBuilder &b, ElidableCopy &c, int64_t d, Location loc) {
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(c.reshape))
    return getValueOrCreateConstantIndexOp(b, loc,
                                           expand.getMixedOutputShape()[d]);
  auto collapse = cast<memref::CollapseShapeOp>(c.reshape);
  SmallVector<OpFoldResult> sizes = c.temporary.getMixedSizes();
  Value product;
  // A named copy: the loop must not run over a destroyed temporary.
  SmallVector<ReassociationIndices> groups = collapse.getReassociationIndices();
  for (int64_t i : groups[d]) {
    Value size = getValueOrCreateConstantIndexOp(b, loc, sizes[i]);
    product = product ? b.createOrFold<arith::MulIOp>(loc, product, size)
                      : size;
  }
  return product;
}

struct ElideCopiesPass final : impl::ElideCopiesPassBase<ElideCopiesPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    // One at a time: an elided copy writes its destination earlier, which
    // the next copy into the same buffer must see.
    SmallVector<Operation *> candidates;
    for (Operation &op : func.getBody().front())
      if (isa<linalg::CopyOp, memref::CopyOp>(op))
        candidates.push_back(&op);
    auto &dominance = getAnalysis<DominanceInfo>();
    for (Operation *op : candidates) {
      std::optional<ElidableCopy> c;
      if (auto copy = dyn_cast<linalg::CopyOp>(op);
          copy && copy.hasPureBufferSemantics())
        c = matchCopy(copy, copy.getInputs()[0], copy.getOutputs()[0]);
      else if (auto copy = dyn_cast<memref::CopyOp>(op))
        c = matchCopy(copy, copy.getSource(), copy.getTarget());
      if (!c)
        continue;
      Value destination = destinationView(*c, dominance);
      if (!destination)
        continue;
      for (Operation *user : c->users)
        user->walk([&](Operation *inner) {
          inner->replaceUsesOfWith(c->temporary, destination);
        });
      c->copy->erase();
      if (c->reshape) {
        for (Operation *user :
             llvm::make_early_inc_range(c->reshape->getUsers())) {
          auto dim = cast<memref::DimOp>(user);
          OpBuilder b(dim);
          dim.replaceAllUsesWith(
              reshapedSize(b, *c, *dim.getConstantIndex(), dim.getLoc()));
          dim.erase();
        }
        c->reshape->erase();
      }
      // Other parts of its life may still use the temporary.
      if (c->temporary->hasOneUse()) {
        c->dealloc->erase();
        c->temporary->erase();
      }
    }
  }
};
} // namespace
} // namespace mlir::lm
