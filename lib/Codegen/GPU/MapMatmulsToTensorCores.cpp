//===- MapMatmulsToTensorCores.cpp - bf16 projections -> mma.sync ---------===//
//
// A bf16 projection, `out[rows, n] += x[rows, k] * w[n, k]` (the form
// lm-cast-to-bf16 gives them), runs on tensor cores when it has enough rows
// to fill them: each warp owns a 16 x 32 output tile and issues
// `mma.sync.m16n8k16` (bf16 operands, f32 accumulators) over K.
// With fewer rows (decode) the same product stays a weight-streaming
// reduction (`lm-map-reductions-to-gpu`); the host picks one per call.
//
// Operands are loaded straight from global memory, 16 bytes per lane: lane
// (g = lane / 4, t = lane % 4) reads elements [8t, 8t + 8) of a 32-wide K
// chunk of its rows, and those eight values fill its fragment registers of
// two k16 steps. This permutes K inside the chunk (the PTX fragment layout
// wants columns 2t, 2t+1, 2t+8, 2t+9 of each step) identically for both
// operands, which a sum does not notice (scripts/check-mma-layout.py checks
// the mapping against the PTX fragment layouts).
//
//===----------------------------------------------------------------------===//

#include "../Combiner.h"
#include "MappingUtils.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MAPMATMULSTOTENSORCORESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
constexpr int64_t kWarpSize = 32;
/// A warp's tile: one m16 row block by four n8 column blocks.
constexpr int64_t kWarpRows = 16;
constexpr int64_t kColumnBlocks = 4;
constexpr int64_t kWarpCols = 8 * kColumnBlocks;
/// Warps per block, as 2 (rows) x 2 (columns): a 32 x 64 block tile.
constexpr int64_t kBlockRows = 2 * kWarpRows;
constexpr int64_t kBlockCols = 2 * kWarpCols;
/// K is consumed 32 at a time: eight consecutive elements per lane.
constexpr int64_t kChunk = 32;
constexpr int64_t kLaneElements = kChunk / 4;
/// Below this many rows the tensor-core tile is mostly padding and the
/// weight-streaming reduction is the better kernel (decode).
constexpr int64_t kMinRows = 16;

/// `out[rows..., n] += extf(x[rows..., k]) * extf(w[n, k])`, a generic over
/// buffers, in loop dimensions.
struct Projection {
  linalg::GenericOp op;
  OpOperand *activation;
  OpOperand *weight;
  unsigned nDim, kDim;
  SmallVector<unsigned> rowDims; ///< The other parallel dimensions, in order.
  int64_t n, k;                  ///< Static sizes of the weight.
};

/// Whether `type`'s innermost dimension is contiguous.
bool hasUnitInnerStride(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

std::optional<Projection> matchProjection(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 1)
    return std::nullopt;
  // The body: extf(x) * extf(w) added to the output, x and w bf16.
  Block &body = op.getRegion().front();
  Operation *add = matchCombiner(op);
  if (!isa_and_nonnull<arith::AddFOp>(add) ||
      !body.getArgument(2).getType().isF32() ||
      body.getOperations().size() != 5)
    return std::nullopt;
  auto mul = combinedValue(op, add).getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  SmallVector<unsigned> factors;
  for (Value factor : mul->getOperands()) {
    auto ext = factor.getDefiningOp<arith::ExtFOp>();
    auto arg = ext ? dyn_cast<BlockArgument>(ext.getIn()) : BlockArgument();
    if (!arg || arg.getOwner() != &body || !arg.getType().isBF16())
      return std::nullopt;
    factors.push_back(arg.getArgNumber());
  }
  if (!llvm::is_contained(factors, 0u) || !llvm::is_contained(factors, 1u))
    return std::nullopt;
  // As lm.linear lowers: the activation first, the weight second.
  Projection p{op, op.getDpsInputOperand(0), op.getDpsInputOperand(1),
               0, 0, {}, 0, 0};

  // w[n, k]: a static, row-contiguous matrix.
  auto weightType = dyn_cast<MemRefType>(p.weight->get().getType());
  AffineMap weightMap = op.getMatchingIndexingMap(p.weight);
  if (!weightType || weightType.getRank() != 2 ||
      !weightType.hasStaticShape() || !hasUnitInnerStride(weightType) ||
      !weightMap.isProjectedPermutation() || weightMap.getNumResults() != 2)
    return std::nullopt;
  p.nDim = weightMap.getDimPosition(0);
  p.kDim = weightMap.getDimPosition(1);
  auto iterators = op.getIteratorTypesArray();
  if (iterators[p.kDim] != utils::IteratorType::reduction ||
      iterators[p.nDim] != utils::IteratorType::parallel)
    return std::nullopt;
  p.n = weightType.getDimSize(0);
  p.k = weightType.getDimSize(1);

  // x[rows..., k], contiguous along k, independent of n.
  auto activationType = dyn_cast<MemRefType>(p.activation->get().getType());
  AffineMap activationMap = op.getMatchingIndexingMap(p.activation);
  if (!activationType || !hasUnitInnerStride(activationType) ||
      !activationMap.isProjectedPermutation() ||
      activationMap.getNumResults() == 0 ||
      activationMap.getDimPosition(activationMap.getNumResults() - 1) !=
          p.kDim ||
      activationMap.isFunctionOfDim(p.nDim))
    return std::nullopt;

  // out[rows..., n]: every parallel dimension, once.
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() || outMap.isFunctionOfDim(p.kDim) ||
      outMap.getNumResults() != op.getNumParallelLoops())
    return std::nullopt;
  for (unsigned dim = 0; dim < op.getNumLoops(); ++dim)
    if (dim != p.nDim && dim != p.kDim)
      p.rowDims.push_back(dim);
  return p;
}

Value index(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The kernel: one launch over (column tiles x row tiles) blocks of four
/// warps; `init` is the output's initial value when a fill gave it one.
class TensorCoreKernel {
public:
  TensorCoreKernel(Projection p, ArrayRef<Value> rowExtents, Value rows,
                   Value init)
      : p(p), rowExtents(rowExtents), rows(rows), init(init) {}

  void build(OpBuilder &b, Location loc) {
    Value rowTiles = arith::CeilDivUIOp::create(b, loc, rows,
                                                index(b, loc, kBlockRows));
    int64_t colTiles = llvm::divideCeil(p.n, kBlockCols);
    Value blocks = arith::MulIOp::create(b, loc, rowTiles,
                                         index(b, loc, colTiles));
    gpu::LaunchOp launch = gpu_mapping::createLinearLaunch(
        b, loc, blocks, index(b, loc, 4 * kWarpSize));

    // Blocks that share a column tile are neighbours: they reuse the same
    // weight rows from L2.
    Value block = launch.getBlockIds().x;
    Value tid = launch.getThreadIds().x;
    Value warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    Value lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    // (column tile, row tile) of the block, (column, row) of the warp in it.
    SmallVector<Value> blockTile = gpu_mapping::delinearize(
        b, loc, block, {index(b, loc, colTiles), rowTiles});
    SmallVector<Value> warpTile = gpu_mapping::delinearize(
        b, loc, warp, {index(b, loc, 2), index(b, loc, 2)});
    auto origin = [&](int dim, int64_t blockSize, int64_t warpSize) -> Value {
      return arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, blockTile[dim], index(b, loc, blockSize)),
          arith::MulIOp::create(b, loc, warpTile[dim], index(b, loc, warpSize)));
    };
    Value rowBase = origin(1, kBlockRows, kWarpRows);
    Value colBase = origin(0, kBlockCols, kWarpCols);
    group = arith::DivUIOp::create(b, loc, lane, index(b, loc, 4));
    Value quad = arith::RemUIOp::create(b, loc, lane, index(b, loc, 4));
    laneK = arith::MulIOp::create(b, loc, quad, index(b, loc, kLaneElements));
    laneCol = arith::MulIOp::create(b, loc, quad, index(b, loc, 2));

    // The two rows (g, g + 8) and four columns (one per n8 block) this lane
    // reads; reads past the end re-read the last row / column, whose
    // results are never stored.
    Value lastRow = arith::SubIOp::create(b, loc, rows, index(b, loc, 1));
    for (int64_t half = 0; half < 2; ++half) {
      Value row = arith::AddIOp::create(
          b, loc, rowBase,
          arith::AddIOp::create(b, loc, group, index(b, loc, 8 * half)));
      laneRows[half] = row;
      rowIndices[half] = gpu_mapping::delinearize(
          b, loc, arith::MinUIOp::create(b, loc, row, lastRow), rowExtents);
    }
    for (int64_t j = 0; j < kColumnBlocks; ++j) {
      Value blockCol =
          arith::AddIOp::create(b, loc, colBase, index(b, loc, 8 * j));
      outCols[j] = arith::AddIOp::create(b, loc, blockCol, laneCol);
      weightRows[j] = arith::MinUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, blockCol, group),
          index(b, loc, p.n - 1));
    }

    SmallVector<Value> acc = initialAccumulators(b, loc);
    auto loop = scf::ForOp::create(b, loc, index(b, loc, 0),
                                   index(b, loc, p.k), index(b, loc, kChunk),
                                   acc);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      scf::YieldOp::create(b, loc, step(b, loc, loop.getInductionVar(),
                                        loop.getRegionIterArgs()));
    }
    store(b, loc, loop.getResults());
  }

private:
  /// Loop indices for output row `half` of this lane at column `col`, or at
  /// reduction index `k`.
  SmallVector<Value> loopIndices(OpBuilder &b, Location loc, int64_t half,
                                 Value col, Value k) {
    SmallVector<Value> ivs(p.op.getNumLoops());
    for (auto [dim, value] : llvm::zip(p.rowDims, rowIndices[half]))
      ivs[dim] = value;
    ivs[p.nDim] = col;
    ivs[p.kDim] = k;
    return ivs;
  }

  SmallVector<Value> outIndices(OpBuilder &b, Location loc, int64_t half,
                                Value col) {
    return gpu_mapping::applyMap(
        b, loc, p.op.getMatchingIndexingMap(p.op.getDpsInitOperand(0)),
        loopIndices(b, loc, half, col, index(b, loc, 0)));
  }

  /// Accumulator (n8 block j, register i) holds row g + 8 * (i / 2) and
  /// column 2t + i % 2 of the block.
  SmallVector<Value> initialAccumulators(OpBuilder &b, Location loc) {
    SmallVector<Value> acc;
    Value lastCol = index(b, loc, p.n - 1);
    for (int64_t j = 0; j < kColumnBlocks; ++j)
      for (int64_t i = 0; i < 4; ++i) {
        if (init) {
          acc.push_back(init);
          continue;
        }
        Value col = arith::MinUIOp::create(
            b, loc,
            arith::AddIOp::create(b, loc, outCols[j], index(b, loc, i % 2)),
            lastCol);
        acc.push_back(memref::LoadOp::create(
            b, loc, p.op.getDpsInitOperand(0)->get(),
            outIndices(b, loc, i / 2, col)));
      }
    return acc;
  }

  /// The eight elements [k, k + 8) of a K-contiguous row of `operand`,
  /// zero past K.
  Value loadLaneElements(OpBuilder &b, Location loc, OpOperand *operand,
                         SmallVector<Value> ivs, Value k) {
    Value buffer = operand->get();
    auto type = cast<MemRefType>(buffer.getType());
    auto vectorType = VectorType::get({kLaneElements}, type.getElementType());
    AffineMap map = p.op.getMatchingIndexingMap(operand);
    ivs[p.kDim] = k;
    if (p.k % kChunk == 0) {
      // Rows start at multiples of 64 bytes; the base is an allocation's
      // start unless the view has an offset.
      llvm::MaybeAlign align;
      if (type.getLayout().isIdentity())
        align = llvm::Align(kLaneElements * type.getElementTypeBitWidth() / 8);
      return vector::LoadOp::create(b, loc, vectorType, buffer,
                                    gpu_mapping::applyMap(b, loc, map, ivs),
                                    /*nontemporal=*/false, align);
    }
    // K is not a multiple of the chunk (small models): element by element,
    // clamped inside the row and zeroed past it.
    Value zero = arith::ConstantOp::create(
        b, loc, b.getZeroAttr(type.getElementType()));
    Value last = index(b, loc, p.k - 1);
    SmallVector<Value> elements;
    for (int64_t e = 0; e < kLaneElements; ++e) {
      Value ke = arith::AddIOp::create(b, loc, k, index(b, loc, e));
      ivs[p.kDim] = arith::MinUIOp::create(b, loc, ke, last);
      Value value = memref::LoadOp::create(
          b, loc, buffer, gpu_mapping::applyMap(b, loc, map, ivs));
      Value inside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, ke, last);
      elements.push_back(arith::SelectOp::create(b, loc, inside, value, zero));
    }
    return vector::FromElementsOp::create(b, loc, vectorType, elements);
  }

  /// Eight bf16 values as the four 32-bit registers mma.sync takes; the
  /// lower half of each holds the lower index.
  Value asRegisters(OpBuilder &b, Location loc, Value values) {
    return vector::BitCastOp::create(
        b, loc, VectorType::get({kLaneElements / 2}, b.getI32Type()), values);
  }

  Value reg(OpBuilder &b, Location loc, Value registers, int64_t i) {
    return vector::ExtractOp::create(b, loc, registers, i);
  }

  /// One 32-wide K chunk: two k16 steps over four n8 blocks.
  SmallVector<Value> step(OpBuilder &b, Location loc, Value k0,
                          ValueRange acc) {
    Value k = arith::AddIOp::create(b, loc, k0, laneK);
    Value a[2];
    for (int64_t half = 0; half < 2; ++half)
      a[half] = asRegisters(
          b, loc,
          loadLaneElements(b, loc, p.activation,
                           loopIndices(b, loc, half, index(b, loc, 0), k), k));
    Value w[kColumnBlocks];
    for (int64_t j = 0; j < kColumnBlocks; ++j) {
      SmallVector<Value> ivs(p.op.getNumLoops(), index(b, loc, 0));
      ivs[p.nDim] = weightRows[j];
      w[j] = asRegisters(b, loc, loadLaneElements(b, loc, p.weight, ivs, k));
    }
    Type f32 = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, f32));
    SmallVector<Value> next(acc.begin(), acc.end());
    for (int64_t s = 0; s < 2; ++s) {
      // Step s takes words 2s and 2s + 1 of each lane load. A's fragment
      // registers are (row g, k 2t..2t+1), (row g+8, same k), (row g, k
      // 2t+8..2t+9), (row g+8, same k); B's are k 2t..2t+1 and 2t+8..2t+9 of
      // column g. Word 2s stands for the first k pair, 2s + 1 for the second.
      SmallVector<Value> aRegs = {reg(b, loc, a[0], 2 * s),
                                  reg(b, loc, a[1], 2 * s),
                                  reg(b, loc, a[0], 2 * s + 1),
                                  reg(b, loc, a[1], 2 * s + 1)};
      for (int64_t j = 0; j < kColumnBlocks; ++j) {
        SmallVector<Value> bRegs = {reg(b, loc, w[j], 2 * s),
                                    reg(b, loc, w[j], 2 * s + 1)};
        MutableArrayRef<Value> c(next.data() + 4 * j, 4);
        auto mma = NVVM::MmaOp::create(
            b, loc, resultType, aRegs, bRegs, SmallVector<Value>(c), {16, 8, 16},
            std::nullopt, std::nullopt,
            std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                          NVVM::MMATypes::bf16},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                           NVVM::MMALayout::col});
        for (int64_t i = 0; i < 4; ++i)
          c[i] = LLVM::ExtractValueOp::create(b, loc, mma, i);
      }
    }
    return next;
  }

  /// Each accumulator to its output element, when that element exists.
  void store(OpBuilder &b, Location loc, ValueRange acc) {
    Value cols = index(b, loc, p.n);
    for (int64_t j = 0; j < kColumnBlocks; ++j)
      for (int64_t i = 0; i < 4; ++i) {
        Value col =
            arith::AddIOp::create(b, loc, outCols[j], index(b, loc, i % 2));
        Value inside = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                  laneRows[i / 2], rows),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, cols));
        auto guard = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(&guard.getThenRegion().front());
        memref::StoreOp::create(b, loc, acc[4 * j + i],
                                p.op.getDpsInitOperand(0)->get(),
                                outIndices(b, loc, i / 2, col));
      }
  }

  Projection p;
  ArrayRef<Value> rowExtents;
  Value rows, init;
  Value group, laneK, laneCol;
  Value laneRows[2];
  SmallVector<Value> rowIndices[2];
  Value outCols[kColumnBlocks], weightRows[kColumnBlocks];
};

/// `if (rows >= kMinRows) tensor-core kernel else the generic (and its fill)`.
void mapToTensorCores(const Projection &p) {
  linalg::GenericOp op = p.op;
  Location loc = op.getLoc();
  OpBuilder b(op);
  linalg::FillOp fill = gpu_mapping::initialFill(op);
  SmallVector<Range, 4> ranges =
      cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc);
  SmallVector<Value> rowExtents;
  Value rows = index(b, loc, 1);
  for (unsigned dim : p.rowDims) {
    rowExtents.push_back(getValueOrCreateConstantIndexOp(b, loc, ranges[dim].size));
    rows = b.createOrFold<arith::MulIOp>(loc, rows, rowExtents.back());
  }
  Value enough = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, rows,
                                       index(b, loc, kMinRows));
  auto choice = scf::IfOp::create(b, loc, enough, /*withElse=*/true);
  b.setInsertionPointToStart(&choice.getThenRegion().front());
  TensorCoreKernel(p, rowExtents, rows, fill ? fill.getInputs()[0] : Value())
      .build(b, loc);
  // The other branch keeps the fill next to its generic, where the
  // reduction mapping folds it (nothing between them saw the buffer).
  Operation *elseYield = choice.getElseRegion().front().getTerminator();
  if (fill)
    fill->moveBefore(elseYield);
  op->moveBefore(elseYield);
}

struct MapMatmulsToTensorCoresPass final
    : impl::MapMatmulsToTensorCoresPassBase<MapMatmulsToTensorCoresPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<Projection> projections;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->getParentOfType<gpu::LaunchOp>() ||
          op->getParentOfType<scf::ParallelOp>())
        return;
      if (std::optional<Projection> p = matchProjection(op))
        projections.push_back(*p);
    });
    for (const Projection &p : projections)
      mapToTensorCores(p);
  }
};
} // namespace
} // namespace mlir::lm
