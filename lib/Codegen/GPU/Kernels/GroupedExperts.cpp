//===- GroupedExperts.cpp - Experts of many tokens as grouped GEMMs -------===//
//
// lm.grouped_experts: lm.moe_experts for prompts and batches, the
// (token, choice) pairs grouped by expert so that each expert's weights are
// read once per tile of up to 128 of its rows, on tensor cores:
//
//  1. grouped_experts_sort, one block: the pairs counted per expert
//     (shared-memory atomics), each expert's segment of the sorted rows and
//     first tile (a prefix sum by one thread: E steps), the tile table
//     ([expert, first row, the segment's end] per tile of up to 128 rows),
//     then each pair placed in its segment (an atomic cursor per expert:
//     the order within a segment is the hardware's, which changes no
//     result, as every row's sums are its own).
//  2. grouped_experts_gather: a block per sorted row, its pair's input row
//     (times the routing weight under scale_input) rounded to bf16; 16-byte
//     stores.
//  3. grouped_experts_gate_up: the GEMM block of WgmmaGemm.cpp per (tile,
//     64 columns of the expert width): A the tile's 128 rows from its
//     first, B the expert's gate rows and up rows as two boxes of 64
//     (interleaved: 128 consecutive rows; relu2: 128 columns of its one
//     row each); the epilogue applies the biases and the activation to each
//     thread's gate and up sums (both in its registers: tile columns c and
//     c + 64, or 2c and 2c + 1) and stores the activation rounded to bf16.
//  4. grouped_experts_down: the GEMM block per (tile, 128 columns of D), A
//     the tile's activations, B the expert's down rows; bias plus sums,
//     f32.
//  5. grouped_experts_combine: a block per token, the routing-weighted sum
//     over its choices of their rows, in choice order (lm.moe_experts'
//     order), plus the residual with `accumulate`.
//
// Segments are not padded: a tile's rows past its expert's end are the
// next expert's (zeros past the last row: the copies' fill), computed
// against this expert's weights and not stored; likewise its columns past
// the expert's weight rows. The buffers hold the B x T x top_k rows there
// are, and the grid covers the most tiles there can be (a partial tile per
// expert chosen); tiles past the last do nothing.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "WgmmaGemm.h"

#include "../../ScalarFunctions.h"
#include "../MappingUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
constexpr int64_t kTileRows = GroupedExpertsOp::kTileRows;
static_assert(kTileRows == kWgmmaTileRows, "a schedule tile is a GEMM tile");
/// The sort's one block.
constexpr int64_t kSortThreads = 1024;
/// The gather's and the combine's blocks; each thread takes 8 (gather: one
/// 16-byte bf16 store) or 4 (combine: 16-byte f32 loads) consecutive
/// elements of a row per pass.
constexpr int64_t kRowThreads = 256;
constexpr int64_t kGatherElements = 8;
constexpr int64_t kCombineElements = 4;

Value constantI32(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
}
Value toIndex(OpBuilder &b, Location loc, Value value) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), value);
}
Value toI32(OpBuilder &b, Location loc, Value value) {
  return arith::IndexCastOp::create(b, loc, b.getI32Type(), value);
}

/// `for (i = first; i < end; i += step) body(i)`.
void stridedLoop(OpBuilder &b, Location loc, Value first, Value end, Value step,
                 function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, loc, first, end, step, ValueRange(),
                     [&](OpBuilder &nb, Location l, Value i, ValueRange) {
                       body(nb, l, i);
                       scf::YieldOp::create(nb, l);
                     });
}

class GroupedExperts {
public:
  explicit GroupedExperts(GroupedExpertsOp op)
      : op(op), topK(op.getTopK()), width(op.getExpertWidth()),
        hidden(cast<MemRefType>(op.getInput().getType()).getDimSize(2)),
        experts(cast<MemRefType>(op.getGateUp().getType()).getDimSize(0)),
        gateUpRows(cast<MemRefType>(op.getGateUp().getType()).getDimSize(1)),
        kind(op.getActivation()) {}

  void build(OpBuilder &b, Location loc) {
    batch = memref::DimOp::create(b, loc, op.getInput(), 0);
    tokens = memref::DimOp::create(b, loc, op.getInput(), 1);
    pairs = arith::MulIOp::create(b, loc,
                                  arith::MulIOp::create(b, loc, batch, tokens),
                                  index(b, loc, topK));
    tileCount = memref::DimOp::create(b, loc, op.getTiles(), 0);
    sort(b, loc);
    gather(b, loc);
    gateUp(b, loc);
    down(b, loc);
    combine(b, loc);
  }

private:
  /// (batch, token, choice) of pair `pair`.
  SmallVector<Value> pairIndices(OpBuilder &b, Location loc, Value pair) {
    return delinearize(b, loc, pair, {batch, tokens, index(b, loc, topK)});
  }
  /// Pair `pair`'s expert, clamped into [0, E) (a router never chooses
  /// outside; a clamp keeps a corrupt index from writing out of bounds).
  Value expertOf(OpBuilder &b, Location loc, ArrayRef<Value> at) {
    Value chosen =
        toIndex(b, loc, memref::LoadOp::create(b, loc, op.getIndices(), at));
    return arith::MinUIOp::create(b, loc, chosen, index(b, loc, experts - 1));
  }
  /// The tiles `rows` rows of one expert take.
  static Value tilesOf(OpBuilder &b, Location loc, Value rows) {
    return arith::CeilDivUIOp::create(b, loc, rows, index(b, loc, kTileRows));
  }

  /// grouped_experts_sort: counts, segments, the tile table and the
  /// placement.
  void sort(OpBuilder &b, Location loc) {
    OpBuilder::InsertionGuard guard(b);
    MLIRContext *context = b.getContext();
    auto shared =
        gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup);
    Type i32 = b.getI32Type();
    auto perExpert = MemRefType::get({experts}, i32, AffineMap(), shared);
    auto scalar = MemRefType::get({1}, i32, AffineMap(), shared);
    auto launch = createLinearLaunch(
        b, loc, index(b, loc, 1), index(b, loc, kSortThreads),
        {perExpert, perExpert, perExpert, perExpert, scalar});
    nameKernel(launch, "grouped_experts_sort");
    Value counts = launch.getWorkgroupAttributions()[0];
    Value starts = launch.getWorkgroupAttributions()[1];
    Value firstTiles = launch.getWorkgroupAttributions()[2];
    Value cursors = launch.getWorkgroupAttributions()[3];
    Value usedTiles = launch.getWorkgroupAttributions()[4];
    Value tid = launch.getThreadIds().x;
    Value threads = index(b, loc, kSortThreads);
    Value zero = index(b, loc, 0), one = index(b, loc, 1);
    Value expertCount = index(b, loc, experts);
    Value zeroI32 = constantI32(b, loc, 0), oneI32 = constantI32(b, loc, 1);
    auto load = [](OpBuilder &nb, Location l, Value buffer, Value at) {
      return toIndex(nb, l, memref::LoadOp::create(nb, l, buffer, at));
    };
    auto storeTile = [&](OpBuilder &nb, Location l, Value tile, int64_t field,
                         Value value) {
      memref::StoreOp::create(nb, l, value, op.getTiles(),
                              ValueRange{tile, index(nb, l, field)});
    };

    stridedLoop(b, loc, tid, expertCount, threads,
                [&](OpBuilder &nb, Location l, Value e) {
                  memref::StoreOp::create(nb, l, zeroI32, counts, e);
                  memref::StoreOp::create(nb, l, zeroI32, cursors, e);
                });
    gpu::BarrierOp::create(b, loc);
    stridedLoop(b, loc, tid, pairs, threads,
                [&](OpBuilder &nb, Location l, Value pair) {
                  Value e = expertOf(nb, l, pairIndices(nb, l, pair));
                  memref::AtomicRMWOp::create(nb, l, arith::AtomicRMWKind::addi,
                                              oneI32, counts, e);
                });
    gpu::BarrierOp::create(b, loc);
    // Segments in expert order, and each expert's first tile.
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, zero);
    ifThen(b, loc, first, [&] {
      auto prefix = scf::ForOp::create(
          b, loc, zero, expertCount, one, ValueRange{zero, zero},
          [&](OpBuilder &nb, Location l, Value e, ValueRange running) {
            memref::StoreOp::create(nb, l, toI32(nb, l, running[0]), starts, e);
            memref::StoreOp::create(nb, l, toI32(nb, l, running[1]), firstTiles,
                                    e);
            Value count = load(nb, l, counts, e);
            scf::YieldOp::create(
                nb, l,
                ValueRange{arith::AddIOp::create(nb, l, running[0], count),
                           arith::AddIOp::create(nb, l, running[1],
                                                 tilesOf(nb, l, count))});
          });
      memref::StoreOp::create(b, loc, toI32(b, loc, prefix.getResult(1)),
                              usedTiles, zero);
    });
    gpu::BarrierOp::create(b, loc);
    // Each expert's tiles: [expert, first row, the segment's end].
    stridedLoop(
        b, loc, tid, expertCount, threads,
        [&](OpBuilder &nb, Location l, Value e) {
          Value start = load(nb, l, starts, e);
          Value count = load(nb, l, counts, e);
          Value firstTile = load(nb, l, firstTiles, e);
          Value end = toI32(nb, l, arith::AddIOp::create(nb, l, start, count));
          Value expertI32 = toI32(nb, l, e);
          stridedLoop(
              nb, l, zero, tilesOf(nb, l, count), one,
              [&](OpBuilder &ib, Location il, Value j) {
                Value tile = arith::AddIOp::create(ib, il, firstTile, j);
                Value row = arith::AddIOp::create(
                    ib, il, start,
                    arith::MulIOp::create(ib, il, j, index(ib, il, kTileRows)));
                storeTile(ib, il, tile, 0, expertI32);
                storeTile(ib, il, tile, 1, toI32(ib, il, row));
                storeTile(ib, il, tile, 2, end);
              });
        });
    stridedLoop(
        b, loc,
        arith::AddIOp::create(b, loc, load(b, loc, usedTiles, zero), tid),
        tileCount, threads, [&](OpBuilder &nb, Location l, Value tile) {
          storeTile(nb, l, tile, 0, constantI32(nb, l, -1));
        });
    // Placement: each pair at its segment's next row.
    stridedLoop(b, loc, tid, pairs, threads,
                [&](OpBuilder &nb, Location l, Value pair) {
                  SmallVector<Value> at = pairIndices(nb, l, pair);
                  Value e = expertOf(nb, l, at);
                  Value taken = memref::AtomicRMWOp::create(
                      nb, l, arith::AtomicRMWKind::addi, oneI32, cursors, e);
                  Value row = arith::AddIOp::create(
                      nb, l, memref::LoadOp::create(nb, l, starts, e), taken);
                  memref::StoreOp::create(nb, l, toI32(nb, l, pair),
                                          op.getOrder(), toIndex(nb, l, row));
                  memref::StoreOp::create(nb, l, row, op.getSlots(), at);
                });
  }

  /// grouped_experts_gather: rows[r] = bf16(x[token of order[r]] (* its
  /// weight)).
  void gather(OpBuilder &b, Location loc) {
    OpBuilder::InsertionGuard guard(b);
    auto launch = createLinearLaunch(b, loc, pairs, index(b, loc, kRowThreads));
    nameKernel(launch, "grouped_experts_gather");
    Value row = launch.getBlockIds().x;
    Value tid = launch.getThreadIds().x;
    SmallVector<Value> at = pairIndices(
        b, loc,
        toIndex(b, loc, memref::LoadOp::create(b, loc, op.getOrder(), row)));
    auto wide = VectorType::get({kGatherElements}, b.getF32Type());
    auto narrow = VectorType::get({kGatherElements}, b.getBF16Type());
    Value factor;
    if (op.getScaleInput())
      factor = vector::BroadcastOp::create(
          b, loc, wide, memref::LoadOp::create(b, loc, op.getWeights(), at));
    Value first =
        arith::MulIOp::create(b, loc, tid, index(b, loc, kGatherElements));
    stridedLoop(b, loc, first, index(b, loc, hidden),
                index(b, loc, kRowThreads * kGatherElements),
                [&](OpBuilder &nb, Location l, Value d) {
                  Value x = loadSlice(nb, l, op.getInput(), {at[0], at[1], d},
                                      kGatherElements, hidden, /*whole=*/true);
                  if (factor)
                    x = arith::MulFOp::create(nb, l, x, factor);
                  vector::StoreOp::create(
                      nb, l, arith::TruncFOp::create(nb, l, narrow, x),
                      op.getRows(), ValueRange{row, d}, /*nontemporal=*/false,
                      llvm::Align(16));
                });
  }

  /// Tile `tile`'s place in A (its first row), and what its epilogue needs:
  /// its expert and the end of the expert's rows. `exists`: the tile has an
  /// expert.
  WgmmaTilePlace tilePlace(OpBuilder &b, Location loc, Value tile) {
    auto field = [&](int64_t i) {
      return memref::LoadOp::create(b, loc, op.getTiles(),
                                    ValueRange{tile, index(b, loc, i)})
          .getResult();
    };
    Value expert = field(0);
    WgmmaTilePlace at;
    at.exists = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, expert,
                                      constantI32(b, loc, 0));
    at.aRow = toIndex(b, loc, field(1));
    at.extra = {toIndex(b, loc, expert), toIndex(b, loc, field(2))};
    return at;
  }

  /// Whether accumulator i's row is the tile's expert's (below the end of
  /// its rows; the rows past it are the next expert's), for each of the
  /// fragment's two rows.
  class RowGuard {
  public:
    RowGuard(OpBuilder &b, Location loc, const WgmmaTilePlace &at,
             const WgmmaFragment &fragment) {
      for (int64_t half = 0; half < 2; ++half)
        inside[half] = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ult,
            arith::AddIOp::create(b, loc, fragment.row,
                                  index(b, loc, 8 * half)),
            at.extra[1]);
    }
    Value operator()(int64_t i) const {
      return inside[WgmmaFragment::rowOffset(i) / 8];
    }

  private:
    Value inside[2];
  };

  /// grouped_experts_gate_up: hidden[r, c] = bf16(act(gate + bias, up + bias)).
  void gateUp(OpBuilder &b, Location loc) {
    bool gated = kind != ExpertKind::relu2;
    bool halves = gated && !op.getInterleavedGateUp();
    // Output columns of the expert width per tile: a GLU's 128 B rows make
    // 64 (a gate and an up row each), relu2's 128.
    int64_t columnsPerTile = gated ? kWgmmaTileCols / 2 : kWgmmaTileCols;
    Value columnTiles = index(b, loc, llvm::divideCeil(width, columnsPerTile));
    WgmmaGemmSpec spec =
        gemmSpec(b, loc, "grouped_experts_gate_up", op.getRows(),
                 op.getGateUp(), halves ? 2 : 1, hidden, columnTiles);
    auto place = [&](OpBuilder &nb, Location l, Value block) {
      SmallVector<Value> tile =
          delinearize(nb, l, block, {tileCount, columnTiles});
      WgmmaTilePlace at = tilePlace(nb, l, tile[0]);
      Value expertRow =
          arith::MulIOp::create(nb, l, at.extra[0], index(nb, l, gateUpRows));
      Value column =
          arith::MulIOp::create(nb, l, tile[1], index(nb, l, columnsPerTile));
      // The tile's first gate row: column c's is c (halves, relu2) or 2c.
      Value firstRow =
          halves || !gated
              ? column
              : arith::MulIOp::create(nb, l, column, index(nb, l, 2));
      at.bRows.push_back(arith::AddIOp::create(nb, l, expertRow, firstRow));
      if (halves)
        at.bRows.push_back(
            arith::AddIOp::create(nb, l, at.bRows[0], index(nb, l, width)));
      at.extra.push_back(column);
      return at;
    };
    spec.place = place;
    auto epilogue = [&](OpBuilder &nb, Location l, const WgmmaTilePlace &at,
                        const WgmmaFragment &fragment) {
      storeActivations(nb, l, at, fragment, halves);
    };
    spec.epilogue = epilogue;
    buildWgmmaGemm(b, loc, spec);
  }

  /// The gate/up epilogue: for each of the thread's output columns, the
  /// gate and up sums (accumulators i and i + 32 with halves: tile columns
  /// c and c + 64; i and i + 1 interleaved: 2c and 2c + 1; relu2: i alone),
  /// biased, activated, rounded to bf16 and stored.
  void storeActivations(OpBuilder &b, Location loc, const WgmmaTilePlace &at,
                        const WgmmaFragment &fragment, bool halves) {
    bool gated = kind != ExpertKind::relu2;
    Value expert = at.extra[0], firstColumn = at.extra[2];
    Value columns = index(b, loc, width);
    RowGuard rowInside(b, loc, at, fragment);
    Value guBias = op.getGateUpBias();
    auto biased = [&](Value sum, Value row) -> Value {
      if (!guBias)
        return sum;
      return arith::AddFOp::create(
          b, loc, sum,
          toF32(
              b, loc,
              memref::LoadOp::create(b, loc, guBias, ValueRange{expert, row})));
    };
    auto constant = [](std::optional<APFloat> value) {
      return value ? value->convertToDouble() : 0.0;
    };
    for (int64_t i = 0; i < WgmmaFragment::kAccumulators; ++i) {
      int64_t gateAt = i, upAt = -1;
      if (halves) {
        if (WgmmaFragment::colOffset(i) >= kWgmmaTileCols / 2)
          continue;
        upAt = i + WgmmaFragment::kAccumulators / 2;
      } else if (gated) {
        if (i % 2 != 0)
          continue;
        upAt = i + 1;
      }
      Value tileColumn = arith::AddIOp::create(
          b, loc, fragment.col,
          index(b, loc, WgmmaFragment::colOffset(gateAt)));
      // Interleaved: tile columns 2c and 2c + 1 are output column c.
      Value column = arith::AddIOp::create(
          b, loc, firstColumn,
          halves || !gated
              ? tileColumn
              : arith::DivUIOp::create(b, loc, tileColumn, index(b, loc, 2))
                    .getResult());
      Value inside = arith::AndIOp::create(
          b, loc, rowInside(gateAt),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, column,
                                columns));
      ifThen(b, loc, inside, [&] {
        Value gateRow = column, upRow;
        if (halves)
          upRow = arith::AddIOp::create(b, loc, column, index(b, loc, width));
        else if (gated) {
          gateRow = arith::MulIOp::create(b, loc, column, index(b, loc, 2));
          upRow = arith::AddIOp::create(b, loc, gateRow, index(b, loc, 1));
        }
        Value gate = biased(fragment.at(b, loc, gateAt), gateRow);
        Value up = gated ? biased(fragment.at(b, loc, upAt), upRow) : Value();
        Value activation = lowering::applyExpertActivation(
            b, loc, kind, gate, up, constant(op.getAlpha()),
            constant(op.getLimit()));
        Value row = arith::AddIOp::create(
            b, loc, fragment.row,
            index(b, loc, WgmmaFragment::rowOffset(gateAt)));
        memref::StoreOp::create(
            b, loc,
            arith::TruncFOp::create(b, loc, b.getBF16Type(), activation),
            op.getHidden(), ValueRange{row, column});
      });
    }
  }

  /// grouped_experts_down: expert_out[r, c] = bias + hidden[r] . down[e, c].
  void down(OpBuilder &b, Location loc) {
    Value columnTiles = index(b, loc, llvm::divideCeil(hidden, kWgmmaTileCols));
    WgmmaGemmSpec spec =
        gemmSpec(b, loc, "grouped_experts_down", op.getHidden(), op.getDown(),
                 1, width, columnTiles);
    auto place = [&](OpBuilder &nb, Location l, Value block) {
      SmallVector<Value> tile =
          delinearize(nb, l, block, {tileCount, columnTiles});
      WgmmaTilePlace at = tilePlace(nb, l, tile[0]);
      Value column =
          arith::MulIOp::create(nb, l, tile[1], index(nb, l, kWgmmaTileCols));
      at.bRows.push_back(arith::AddIOp::create(
          nb, l,
          arith::MulIOp::create(nb, l, at.extra[0], index(nb, l, hidden)),
          column));
      at.extra.push_back(column);
      return at;
    };
    spec.place = place;
    auto epilogue = [&](OpBuilder &nb, Location l, const WgmmaTilePlace &at,
                        const WgmmaFragment &fragment) {
      storeExpertRows(nb, l, at, fragment);
    };
    spec.epilogue = epilogue;
    buildWgmmaGemm(b, loc, spec);
  }

  /// The down epilogue: accumulators i and i + 1 (neighbouring columns; D
  /// is even) plus their biases, one 8-byte store.
  void storeExpertRows(OpBuilder &b, Location loc, const WgmmaTilePlace &at,
                       const WgmmaFragment &fragment) {
    Value expert = at.extra[0];
    Value columns = index(b, loc, hidden);
    RowGuard rowInside(b, loc, at, fragment);
    auto pair = VectorType::get({2}, b.getF32Type());
    for (int64_t i = 0; i < WgmmaFragment::kAccumulators; i += 2) {
      Value column = arith::AddIOp::create(
          b, loc, arith::AddIOp::create(b, loc, at.extra[2], fragment.col),
          index(b, loc, WgmmaFragment::colOffset(i)));
      Value inside = arith::AndIOp::create(
          b, loc, rowInside(i),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, column,
                                columns));
      ifThen(b, loc, inside, [&] {
        Value sums = vector::FromElementsOp::create(
            b, loc, pair,
            ValueRange{fragment.at(b, loc, i), fragment.at(b, loc, i + 1)});
        if (Value bias = op.getDownBias())
          sums = arith::AddFOp::create(
              b, loc, sums,
              toF32(b, loc,
                    loadSlice(b, loc, bias, {expert, column}, 2, hidden,
                              /*whole=*/false)));
        Value row = arith::AddIOp::create(
            b, loc, fragment.row, index(b, loc, WgmmaFragment::rowOffset(i)));
        vector::StoreOp::create(b, loc, sums, op.getExpertOut(),
                                ValueRange{row, column},
                                /*nontemporal=*/false, llvm::Align(8));
      });
    }
  }

  /// grouped_experts_combine: out[b, t] (+)= sum_k (w_k *) expert_out[slot_k].
  void combine(OpBuilder &b, Location loc) {
    OpBuilder::InsertionGuard guard(b);
    auto launch =
        createLinearLaunch(b, loc, arith::MulIOp::create(b, loc, batch, tokens),
                           index(b, loc, kRowThreads));
    nameKernel(launch, "grouped_experts_combine");
    SmallVector<Value> token =
        delinearize(b, loc, launch.getBlockIds().x, {batch, tokens});
    Value tid = launch.getThreadIds().x;
    auto wide = VectorType::get({kCombineElements}, b.getF32Type());
    // Each choice's row and routing weight, loaded once.
    SmallVector<Value> slots, weights;
    for (int64_t k = 0; k < topK; ++k) {
      SmallVector<Value> at = {token[0], token[1], index(b, loc, k)};
      slots.push_back(
          toIndex(b, loc, memref::LoadOp::create(b, loc, op.getSlots(), at)));
      if (!op.getScaleInput())
        weights.push_back(vector::BroadcastOp::create(
            b, loc, wide, memref::LoadOp::create(b, loc, op.getWeights(), at)));
    }
    Value first =
        arith::MulIOp::create(b, loc, tid, index(b, loc, kCombineElements));
    stridedLoop(
        b, loc, first, index(b, loc, hidden),
        index(b, loc, kRowThreads * kCombineElements),
        [&](OpBuilder &nb, Location l, Value d) {
          Value sum = arith::ConstantOp::create(
              nb, l, DenseElementsAttr::get(wide, nb.getF32FloatAttr(0.0)));
          for (int64_t k = 0; k < topK; ++k) {
            Value row = loadSlice(nb, l, op.getExpertOut(), {slots[k], d},
                                  kCombineElements, hidden, /*whole=*/true);
            Value term =
                op.getScaleInput()
                    ? row
                    : arith::MulFOp::create(nb, l, weights[k], row).getResult();
            sum = arith::AddFOp::create(nb, l, sum, term);
          }
          SmallVector<Value> out = {token[0], token[1], d};
          if (op.getAccumulate())
            sum = arith::AddFOp::create(nb, l,
                                        loadSlice(nb, l, op.getInit(), out,
                                                  kCombineElements, hidden,
                                                  /*whole=*/true),
                                        sum);
          storeSlice(nb, l, sum, op.getInit(), out);
        });
  }

  /// `values` at `indices` of `buffer`'s innermost row: one aligned vector
  /// store where the layout is the identity (rows of a multiple of 8
  /// elements: the verifier's), element by element otherwise.
  static void storeSlice(OpBuilder &b, Location loc, Value values, Value buffer,
                         SmallVector<Value> indices) {
    auto type = cast<MemRefType>(buffer.getType());
    auto vector = cast<VectorType>(values.getType());
    if (type.getLayout().isIdentity()) {
      int64_t bytes =
          vector.getNumElements() * type.getElementTypeBitWidth() / 8;
      vector::StoreOp::create(b, loc, values, buffer, indices,
                              /*nontemporal=*/false, llvm::Align(bytes));
      return;
    }
    Value first = indices.back();
    for (int64_t e = 0; e < vector.getNumElements(); ++e) {
      indices.back() = arith::AddIOp::create(b, loc, first, index(b, loc, e));
      memref::StoreOp::create(b, loc,
                              vector::ExtractOp::create(b, loc, values, e),
                              buffer, indices);
    }
  }

  /// A GEMM of the sorted rows `a` [P, K] against the stacked `weights`
  /// [E, rows, K] (their tensor map's B rows in `boxes` boxes), a block per
  /// (tile, one of `columnTiles`); the place and the epilogue are the
  /// caller's.
  WgmmaGemmSpec gemmSpec(OpBuilder &b, Location loc, StringRef name, Value a,
                         Value weights, int64_t boxes, int64_t k,
                         Value columnTiles) {
    WgmmaGemmSpec spec;
    spec.name = name;
    spec.aMap = makeWgmmaTensorMap(b, loc, a, kWgmmaTileRows);
    spec.bBoxes = boxes;
    spec.bMaps = {makeWgmmaTensorMap(b, loc, stackedRows(b, loc, weights),
                                     kWgmmaTileRows / boxes)};
    spec.k = k;
    spec.blocks = arith::MulIOp::create(b, loc, tileCount, columnTiles);
    return spec;
  }

  /// The stacked weights [E, rows, K] as the [E x rows, K] matrix their
  /// tensor map describes.
  static Value stackedRows(OpBuilder &b, Location loc, Value weights) {
    return memref::CollapseShapeOp::create(
        b, loc, weights, SmallVector<ReassociationIndices>{{0, 1}, {2}});
  }

  GroupedExpertsOp op;
  int64_t topK, width, hidden, experts, gateUpRows;
  ExpertKind kind;
  Value batch, tokens, pairs, tileCount;
};
} // namespace

void buildGroupedExperts(OpBuilder &b, GroupedExpertsOp op) {
  GroupedExperts(op).build(b, op.getLoc());
}

} // namespace mlir::lm::gpu_mapping
