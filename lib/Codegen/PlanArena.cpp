//===- PlanArena.cpp - Temporaries as slots of one planned buffer ---------===//
//
// Buffer deallocation frees each temporary at the end of its block, so a
// forward pass would hold every activation of every layer at once (a
// prompt's attention scores, layer after layer). Here the temporaries of a
// function's body get slots in one arena by liveness instead: temporaries
// whose lifetimes do not overlap share a slot, a slot is as large as its
// largest tenant, and the offsets are computed once, from the dynamic sizes
// (tokens, context length), where the first temporary was allocated.
//
// A temporary allocated inside an op of the body (a branch of a kernel
// choice; an scf.if, for or while, whose regions run one at a time) lives,
// for the plan, for that whole op: it shares no slot with the op's other
// temporaries, but can with those of other ops.
//
// A kernel choice's branches that each allocate the buffer they yield (a
// projection accumulating into a copy of the residual; the generic branch
// computing into a new buffer) make one temporary of all those
// allocations: only one of them runs, and the choice's result, freed
// through its base buffer at the end, lives until its last use.
//
// A temporary whose sizes cannot be computed there (they depend on data the
// function reads later) stays an allocation of its own and is freed right
// after its last use (at the body's level), as every temporary of the body
// is with `use-arena=false` (the host: LLVM vectorises better around
// separate mallocs). One whose views escape its block, or that is freed
// elsewhere, is left as it is.
//
//===----------------------------------------------------------------------===//

#include "Rematerializer.h"
#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/ForwardAbi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::lm {
#define GEN_PASS_DEF_PLANARENAPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// Every slot starts at a multiple of this (and the arena is aligned to it):
/// more than any alignment bufferization asks for, and whole DRAM bursts.
constexpr int64_t kSlotAlignment = 256;
/// Kernels between a slot's last reader and its next writer (see
/// assignSlots).
constexpr unsigned kReuseDistance = 3;

/// A `memref.alloc` of the block, or the result of a kernel choice whose
/// branches each yield an allocation, and what the plan knows of it.
struct Temporary {
  /// The buffer: the allocation's result, or the choice's result.
  Value root;
  /// What it is made of: one allocation, or one per branch.
  SmallVector<memref::AllocOp> allocs;
  memref::DeallocOp dealloc;
  /// A choice's result is freed through its base buffer.
  memref::ExtractStridedMetadataOp metadata;
  /// Positions in the body's block: the allocation (or the op it is nested
  /// in) and the last op using it (or a view of it), itself or nested.
  unsigned start = 0, end = 0;
  Operation *lastUser = nullptr;
  /// Allocated in a region of an op of the body's block.
  bool nested = false;
  /// Element bytes times the static dimensions.
  int64_t staticBytes = 0;
  /// The dynamic sizes, computed where the arena is allocated.
  SmallVector<Value> sizes;

  /// Temporaries with the same key have the same size.
  std::pair<int64_t, SmallVector<Value>> key() const {
    return {staticBytes, sizes};
  }
};

struct Slot {
  unsigned end = 0;
  SmallVector<Temporary *> tenants;

  bool holds(const Temporary &t) const {
    return llvm::any_of(tenants,
                        [&](Temporary *o) { return o->key() == t.key(); });
  }
  /// Whether a tenant's size differs from `t`'s only by a constant factor.
  bool comparable(const Temporary &t) const {
    return llvm::any_of(tenants,
                        [&](Temporary *o) { return o->sizes == t.sizes; });
  }
};

/// Bytes per element, for the element types a temporary may have.
std::optional<int64_t> elementBytes(Type type) {
  if (type.isIntOrFloat())
    return (type.getIntOrFloatBitWidth() + 7) / 8;
  if (type.isIndex())
    return 8;
  return std::nullopt;
}

/// The deallocation of `root`'s base buffer: its strided metadata's only
/// use, in `block`.
std::pair<memref::ExtractStridedMetadataOp, memref::DeallocOp>
freedThroughBase(Operation *user, Value root, Block &block) {
  auto metadata = dyn_cast<memref::ExtractStridedMetadataOp>(user);
  if (!metadata || metadata.getSource() != root ||
      !llvm::all_of(metadata->getResults().drop_front(),
                    [](Value v) { return v.use_empty(); }) ||
      !metadata.getBaseBuffer().hasOneUse())
    return {};
  auto dealloc =
      dyn_cast<memref::DeallocOp>(*metadata.getBaseBuffer().user_begin());
  if (!dealloc || dealloc->getBlock() != &block)
    return {};
  return {metadata, dealloc};
}

/// Fills in `t`'s dealloc and last use from the uses of its buffer and
/// the buffer's views; false if a view escapes (leaves through a terminator
/// or an op whose memref results are not views) or something else frees
/// it.
bool findLifetime(Temporary &t, Block &block,
                  const DenseMap<Operation *, unsigned> &positions) {
  SmallVector<Value> worklist{t.root};
  t.end = t.start;
  t.lastUser = block.findAncestorOpInBlock(*t.root.getDefiningOp());
  Block *home = t.root.getDefiningOp()->getBlock();
  while (!worklist.empty()) {
    Value buffer = worklist.pop_back_val();
    for (OpOperand &use : buffer.getUses()) {
      Operation *user = use.getOwner();
      if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
        if (buffer != t.root || t.dealloc || dealloc->getBlock() != home)
          return false;
        t.dealloc = dealloc;
        continue;
      }
      if (auto [metadata, dealloc] = freedThroughBase(user, t.root, block);
          dealloc) {
        if (t.dealloc)
          return false;
        t.metadata = metadata;
        t.dealloc = dealloc;
        continue;
      }
      if (user->hasTrait<OpTrait::IsTerminator>())
        return false;
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == buffer) {
        worklist.append(user->result_begin(), user->result_end());
      } else if (llvm::any_of(user->getResultTypes(),
                              llvm::IsaPred<BaseMemRefType>)) {
        return false;
      }
      Operation *ancestor = block.findAncestorOpInBlock(*user);
      if (!ancestor)
        return false;
      if (unsigned position = positions.lookup(ancestor); position > t.end) {
        t.end = position;
        t.lastUser = ancestor;
      }
    }
  }
  return t.dealloc != nullptr;
}

/// Index arithmetic that folds constants.
struct SizeArithmetic {
  OpBuilder &b;
  Location loc;
  Value constant(int64_t v) {
    return b.createOrFold<arith::ConstantIndexOp>(loc, v);
  }
  Value mul(Value x, Value y) {
    return b.createOrFold<arith::MulIOp>(loc, x, y);
  }
  Value add(Value x, Value y) {
    return b.createOrFold<arith::AddIOp>(loc, x, y);
  }
  Value max(Value x, Value y) {
    return b.createOrFold<arith::MaxUIOp>(loc, x, y);
  }
  Value alignUp(Value x) {
    Value a = constant(kSlotAlignment);
    return mul(b.createOrFold<arith::CeilDivUIOp>(loc, x, a), a);
  }
  Value bytes(const Temporary &t) {
    Value product = constant(t.staticBytes);
    for (Value size : t.sizes)
      product = mul(product, size);
    return product;
  }
};

/// The allocations that the branches of `choice` yield as result `index`
/// (through casts and nested choices), each used only inside `choice`;
/// false if a branch yields anything else.
bool collectYielded(scf::IfOp choice, unsigned index, scf::IfOp outer,
                    SmallVectorImpl<memref::AllocOp> &allocs) {
  if (choice.getElseRegion().empty())
    return false;
  for (scf::YieldOp yield : {choice.thenYield(), choice.elseYield()}) {
    Value value = yield.getOperand(index);
    while (auto cast = value.getDefiningOp<memref::CastOp>())
      value = cast.getSource();
    if (auto inner = value.getDefiningOp<scf::IfOp>()) {
      if (!collectYielded(inner, cast<OpResult>(value).getResultNumber(), outer,
                          allocs))
        return false;
      continue;
    }
    auto alloc = value.getDefiningOp<memref::AllocOp>();
    if (!alloc || !alloc.getSymbolOperands().empty() ||
        llvm::any_of(alloc->getUsers(), [&](Operation *user) {
          return isa<memref::DeallocOp>(user) || !outer->isProperAncestor(user);
        }))
      return false;
    allocs.push_back(alloc);
  }
  return true;
}

/// Interval colouring in program order: a temporary moves into a free slot
/// that held one of its size (no growth), else one whose tenants differ
/// from it by a constant factor (the slot grows to the larger), else a new
/// slot. Free means the slot's last tenant is dead before it starts; of
/// the free slots, the one free the longest: a slot taken right after its
/// last reader would order that reader's kernel before the writer's, which
/// could otherwise run as one launch (lm-merge-launches); for the same
/// reason a slot is only taken once `kReuseDistance` ops that touch memory
/// ran after its last reader (`touchesBefore[i]`: how many ops before
/// position i do).
SmallVector<Slot> assignSlots(MutableArrayRef<Temporary> planned,
                              ArrayRef<unsigned> touchesBefore) {
  SmallVector<Slot> slots;
  for (Temporary &t : planned) {
    auto isFree = [&](const Slot &s) {
      return s.end < t.start &&
             touchesBefore[t.start] - touchesBefore[s.end + 1] >=
                 kReuseDistance;
    };
    auto pick = [&](auto fits) -> Slot * {
      Slot *best = nullptr;
      for (Slot &s : slots)
        if (isFree(s) && fits(s) && (!best || s.end < best->end))
          best = &s;
      return best;
    };
    Slot *chosen = pick([&](const Slot &s) { return s.holds(t); });
    if (!chosen)
      chosen = pick([&](const Slot &s) { return s.comparable(t); });
    if (!chosen)
      chosen = &slots.emplace_back();
    chosen->tenants.push_back(&t);
    chosen->end = t.end;
  }
  return slots;
}

/// (A nested temporary is freed where its block ends, as it was.)
void freeAfterLastUse(Temporary &t) {
  if (!t.nested && !t.metadata && t.lastUser->isBeforeInBlock(t.dealloc))
    t.dealloc->moveAfter(t.lastUser);
}

void planBlock(Block &block, DominanceInfo &dominance, bool useArena) {
  DenseMap<Operation *, unsigned> positions;
  SmallVector<unsigned> touchesBefore{0};
  for (auto [i, op] : llvm::enumerate(block)) {
    positions[&op] = i;
    bool touches = !isMemoryEffectFree(&op) &&
                   !isa<memref::AllocOp, memref::DeallocOp>(op);
    touchesBefore.push_back(touchesBefore.back() + touches);
  }

  // In program order (nested ones at their op's position); the host plans
  // the body's own only. Only regions that run one at a time may nest one:
  // a parallel loop's iterations would share its slot.
  auto sequential = [&](Operation *alloc) {
    for (Operation *parent = alloc->getParentOp();;
         parent = parent->getParentOp()) {
      if (!isa<scf::IfOp, scf::ForOp, scf::WhileOp>(parent))
        return false;
      if (parent->getBlock() == &block)
        return true;
    }
  };
  SmallVector<Temporary> temporaries;
  for (Operation &op : block) {
    op.walk<WalkOrder::PreOrder>([&](memref::AllocOp alloc) {
      bool nested = alloc->getBlock() != &block;
      if (!alloc.getSymbolOperands().empty() ||
          (nested && (!useArena || !sequential(alloc))))
        return;
      Temporary t;
      t.root = alloc.getResult();
      t.allocs = {alloc};
      t.start = positions.lookup(&op);
      t.nested = nested;
      if (findLifetime(t, block, positions))
        temporaries.push_back(std::move(t));
    });
    auto choice = dyn_cast<scf::IfOp>(op);
    if (!useArena || !choice)
      continue;
    for (OpResult result : choice->getResults()) {
      Temporary t;
      t.root = result;
      t.start = positions.lookup(&op);
      t.nested = true;
      if (isa<MemRefType>(result.getType()) &&
          collectYielded(choice, result.getResultNumber(), choice, t.allocs) &&
          llvm::all_of(t.allocs,
                       [&](memref::AllocOp a) { return sequential(a); }) &&
          findLifetime(t, block, positions) && t.metadata)
        temporaries.push_back(std::move(t));
    }
  }
  if (temporaries.empty())
    return;
  if (!useArena) {
    for (Temporary &t : temporaries)
      freeAfterLastUse(t);
    return;
  }

  // Sizes at the first temporary (before the op it is nested in): those
  // that cannot be known there keep their own allocation, freed after their
  // last use.
  Operation *point =
      block.findAncestorOpInBlock(*temporaries.front().root.getDefiningOp());
  Rematerializer materializer(point, dominance);
  SmallVector<Temporary> planned;
  for (Temporary &t : temporaries) {
    // Every allocation of a choice's result must have the same size.
    bool plannable = true;
    for (memref::AllocOp alloc : t.allocs) {
      MemRefType type = alloc.getType();
      std::optional<int64_t> bytes = elementBytes(type.getElementType());
      if (!bytes || !type.getLayout().isIdentity() || type.getMemorySpace()) {
        plannable = false;
        break;
      }
      Temporary sized;
      sized.staticBytes = *bytes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (!type.isDynamicDim(d))
          sized.staticBytes *= type.getDimSize(d);
      for (Value size : alloc.getDynamicSizes()) {
        Value at = materializer.get(size);
        if (!at) {
          plannable = false;
          break;
        }
        sized.sizes.push_back(at);
      }
      if (!plannable || (alloc != t.allocs.front() && sized.key() != t.key())) {
        plannable = false;
        break;
      }
      t.staticBytes = sized.staticBytes;
      t.sizes = sized.sizes;
    }
    if (plannable)
      planned.push_back(t);
    else
      freeAfterLastUse(t);
  }
  if (planned.empty())
    return;

  SmallVector<Slot> slots = assignSlots(planned, touchesBefore);
  OpBuilder b(point);
  SizeArithmetic size{b, point->getLoc()};
  SmallVector<Value> offsets;
  Value total = size.constant(0);
  for (Slot &slot : slots) {
    offsets.push_back(total);
    Value slotBytes;
    SmallVector<std::pair<int64_t, SmallVector<Value>>> seen;
    for (Temporary *t : slot.tenants) {
      if (llvm::is_contained(seen, t->key()))
        continue;
      seen.push_back(t->key());
      Value bytes = size.bytes(*t);
      slotBytes = slotBytes ? size.max(slotBytes, bytes) : bytes;
    }
    total = size.add(total, size.alignUp(slotBytes));
  }
  auto arenaType =
      MemRefType::get({ShapedType::kDynamic}, b.getIntegerType(8));
  auto arena = memref::AllocOp::create(b, point->getLoc(), arenaType,
                                       ValueRange{total},
                                       b.getI64IntegerAttr(kSlotAlignment));
  arena->setAttr(abi::kArena, b.getUnitAttr());

  for (auto [slot, offset] : llvm::zip(slots, offsets)) {
    for (Temporary *t : slot.tenants) {
      for (memref::AllocOp alloc : t->allocs) {
        OpBuilder at(alloc);
        auto view =
            memref::ViewOp::create(at, alloc.getLoc(), alloc.getType(), arena,
                                   offset, alloc.getDynamicSizes());
        alloc.replaceAllUsesWith(view.getResult());
        alloc.erase();
      }
      t->dealloc.erase();
      if (t->metadata)
        t->metadata.erase();
    }
  }
  OpBuilder atEnd(block.getTerminator());
  memref::DeallocOp::create(atEnd, arena.getLoc(), arena);
}

struct PlanArenaPass final : impl::PlanArenaPassBase<PlanArenaPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    planBlock(func.getBody().front(), getAnalysis<DominanceInfo>(), useArena);
  }
};
} // namespace
} // namespace mlir::lm
