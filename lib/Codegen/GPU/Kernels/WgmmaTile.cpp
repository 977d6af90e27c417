//===- WgmmaTile.cpp - Projections of many rows on Hopper tensor cores ----===//
//
// A bf16 projection `out[rows, n] += x[rows, k] * w[n, k]` with enough rows
// to fill a warpgroup's m64 instruction (prompts, large batches): blocks of
// 128 x 128 output tiles, K consumed 64 at a time, on sm_90a's asynchronous
// units (HOPPER-CODEGEN.md, section 2):
//
// - one producer warpgroup, of which one thread issues the TMA copies of
//   each K step's x tile (128 rows x 64) and w tile (128 columns x 64) into
//   a ring of four stages of shared memory, 128-byte swizzled;
// - two consumer warpgroups, 64 rows each, that wait for a stage, issue
//   four `wgmma.mma_async.m64n128k16` (bf16 operands read from shared
//   memory through matrix descriptors, f32 accumulators in registers) and
//   give back the previous step's stage once its instructions are done;
// - per stage two mbarriers: `full` (the producer's expected bytes, which
//   the copies complete) and `empty` (every consumer thread arrives once it
//   has read the stage).
//
// Both operands are K-major (x's rows and w's rows run along K), which is
// wgmma's native form (no transposes). A tile's rows (x) and columns (w)
// past the ends arrive as zeros (the copies' out-of-bounds fill), and the
// epilogue stores only the outputs that exist, each as the fill's value
// (or the output's own, for a residual folded in) plus its sum.
//
// The tensor maps are made on the host before the launch
// (`nvgpu.tma.create.descriptor`, which the runtime's
// mgpuTensorMapEncodeTiledMemref encodes once per buffer and shape).
// scripts/check-wgmma-layout.py checks the swizzle, the descriptors and the
// accumulator mapping below against the PTX ISA's layouts.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kWarpSize;
constexpr int64_t kWarpgroup = 4 * kWarpSize;
/// The block's output tile: two consumer warpgroups of 64 rows by 128
/// columns (one m64n128 accumulator each).
constexpr int64_t kTileRows = 128;
constexpr int64_t kTileCols = 128;
constexpr int64_t kConsumers = 2;
constexpr int64_t kConsumerRows = kTileRows / kConsumers;
/// K per stage: one 128-byte swizzle row of bf16, four k16 instructions.
constexpr int64_t kTileK = 64;
constexpr int64_t kInstructionK = 16;
/// Stages in flight: three K steps loading while one is consumed.
/// Reasoned, not timed.
constexpr int64_t kStages = 4;
constexpr int64_t kOperandTileBytes = kTileRows * kTileK * 2;
constexpr int64_t kStageBytes = 2 * kOperandTileBytes;
/// The 128-byte swizzle repeats every 8 rows (1024 bytes): tiles start at
/// multiples of it, so the swizzle's phase is the address's own (matrix
/// base offset 0), and the dynamic shared memory is aligned to it here.
constexpr int64_t kSwizzleAtom = 1024;
constexpr int64_t kSharedBytes = kStages * kStageBytes + kSwizzleAtom;
/// f32 accumulators per thread of a m64n128 tile.
constexpr int64_t kAccumulators = kConsumerRows * kTileCols / kWarpgroup;

Type workgroupMemRef(MLIRContext *context, ArrayRef<int64_t> shape,
                     Type element) {
  return MemRefType::get(
      shape, element, AffineMap(),
      gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup));
}

/// The tensor maps' type: a 128 x 64 box in shared memory, 128-byte
/// swizzled, zeros out of bounds.
nvgpu::TensorMapDescriptorType tensorMapType(MLIRContext *context) {
  auto tile = cast<MemRefType>(workgroupMemRef(context, {kTileRows, kTileK},
                                               BFloat16Type::get(context)));
  return nvgpu::TensorMapDescriptorType::get(
      context, tile, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_NONE,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
}

class WgmmaKernel {
public:
  WgmmaKernel(const Projection &p, ArrayRef<Value> rowExtents, Value rows,
              Value init)
      : p(p), rowExtents(rowExtents), rows(rows), init(init) {}

  void build(OpBuilder &b, Location loc) {
    MLIRContext *context = b.getContext();
    // The tensor maps: x as [rows, K], w as [N, K].
    auto mapType = tensorMapType(context);
    Value box[] = {index(b, loc, kTileRows), index(b, loc, kTileK)};
    Value x = collapsedActivation(b, loc);
    Value xMap = nvgpu::TmaCreateDescriptorOp::create(b, loc, mapType,
                                                      unranked(b, loc, x), box);
    Value wMap = nvgpu::TmaCreateDescriptorOp::create(
        b, loc, mapType, unranked(b, loc, p.weight->get()), box);

    Value rowTiles =
        arith::CeilDivUIOp::create(b, loc, rows, index(b, loc, kTileRows));
    int64_t colTiles = llvm::divideCeil(p.n, kTileCols);
    Value blocks =
        arith::MulIOp::create(b, loc, rowTiles, index(b, loc, colTiles));
    Value one = index(b, loc, 1);
    Value sharedBytes =
        arith::ConstantIntOp::create(b, loc, b.getI32Type(), kSharedBytes);
    auto launch = gpu::LaunchOp::create(
        b, loc, blocks, one, one, index(b, loc, (1 + kConsumers) * kWarpgroup),
        one, one, sharedBytes);
    nameKernel(launch, "wgmma_tile");
    OpBuilder::InsertionGuard guard(b);
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);

    // Blocks of the same row tile are neighbours: they share x's tile in
    // L2 while walking w.
    SmallVector<Value> tile = delinearize(b, loc, launch.getBlockIds().x,
                                          {rowTiles, index(b, loc, colTiles)});
    rowTile = tile[0];
    colTile = tile[1];
    Value tid = launch.getThreadIds().x;
    stageBase(b, loc);
    barriers = nvgpu::MBarrierCreateOp::create(b, loc, barrierType(context));
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid,
                                        index(b, loc, 0));
    ifThen(b, loc, first, [&] {
      for (int64_t s = 0; s < kStages; ++s) {
        nvgpu::MBarrierInitOp::create(b, loc, barriers, one,
                                      index(b, loc, full(s)), Value());
        nvgpu::MBarrierInitOp::create(b, loc, barriers,
                                      index(b, loc, kConsumers * kWarpgroup),
                                      index(b, loc, empty(s)), Value());
      }
    });
    // The barriers, initialised, visible to the copy units and every
    // thread before anyone arrives.
    NVVM::FenceMbarrierInitOp::create(b, loc);
    gpu::BarrierOp::create(b, loc);

    Value warpgroup =
        arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpgroup));
    Value producer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           warpgroup, index(b, loc, 0));
    auto roles = scf::IfOp::create(b, loc, producer, /*withElse=*/true);
    b.setInsertionPointToStart(&roles.getThenRegion().front());
    ifThen(b, loc, first, [&] { produce(b, loc, xMap, wMap); });
    b.setInsertionPointToStart(&roles.getElseRegion().front());
    consume(b, loc, tid,
            arith::SubIOp::create(b, loc, warpgroup, index(b, loc, 1)));
  }

private:
  int64_t kSteps() const { return llvm::divideCeil(p.k, kTileK); }
  static int64_t full(int64_t stage) { return stage; }
  static int64_t empty(int64_t stage) { return kStages + stage; }

  static nvgpu::MBarrierGroupType barrierType(MLIRContext *context) {
    return nvgpu::MBarrierGroupType::get(
        context,
        gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup),
        2 * kStages);
  }

  /// x as the [rows, K] matrix its tensor map describes.
  Value collapsedActivation(OpBuilder &b, Location loc) {
    Value x = p.activation->get();
    auto type = cast<MemRefType>(x.getType());
    if (type.getRank() == 2)
      return x;
    SmallVector<ReassociationIndices> groups(2);
    for (int64_t d = 0; d + 1 < type.getRank(); ++d)
      groups[0].push_back(d);
    groups[1].push_back(type.getRank() - 1);
    return memref::CollapseShapeOp::create(b, loc, x, groups);
  }

  static Value unranked(OpBuilder &b, Location loc, Value buffer) {
    auto type = cast<MemRefType>(buffer.getType());
    return memref::CastOp::create(
        b, loc,
        UnrankedMemRefType::get(type.getElementType(), type.getMemorySpace()),
        buffer);
  }

  template <typename Body>
  static void ifThen(OpBuilder &b, Location loc, Value condition, Body body) {
    auto branch = scf::IfOp::create(b, loc, condition, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&branch.getThenRegion().front());
    body();
  }

  /// The dynamic shared memory and the byte offset, from its start, of the
  /// first stage: the next multiple of the swizzle atom.
  void stageBase(OpBuilder &b, Location loc) {
    MLIRContext *context = b.getContext();
    shared = gpu::DynamicSharedMemoryOp::create(
        b, loc,
        workgroupMemRef(context, {ShapedType::kDynamic}, b.getIntegerType(8)));
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
    Value atom = index(b, loc, kSwizzleAtom);
    Value misalignment = arith::RemUIOp::create(b, loc, address, atom);
    firstStage = arith::RemUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, atom, misalignment), atom);
  }

  /// Stage `stage`'s tile of x (operand 0) or w (operand 1), as a view.
  Value operandTile(OpBuilder &b, Location loc, Value stage, int64_t operand) {
    Value offset = arith::AddIOp::create(
        b, loc, firstStage,
        arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, stage, index(b, loc, kStageBytes)),
            index(b, loc, operand * kOperandTileBytes)));
    return memref::ViewOp::create(
        b, loc,
        workgroupMemRef(b.getContext(), {kTileRows, kTileK}, b.getBF16Type()),
        shared, offset, ValueRange());
  }

  /// The producer's one thread: fences and prefetches the tensor maps; then,
  /// for each K step, waits until its stage is free (from the second round
  /// on), announces the bytes and issues both copies, which complete the
  /// stage's `full` barrier.
  void produce(OpBuilder &b, Location loc, Value xMap, Value wMap) {
    // The maps were written by the host (a copy into device memory): the
    // copy unit reads them only after this fence, as the CUDA programming
    // guide asks of maps in global memory.
    for (Value map : {xMap, wMap}) {
      nvgpu::TmaFenceOp::create(b, loc, map);
      nvgpu::TmaPrefetchOp::create(b, loc, map, Value());
    }
    Value stages = index(b, loc, kStages);
    Value rowOrigin =
        arith::MulIOp::create(b, loc, rowTile, index(b, loc, kTileRows));
    Value colOrigin =
        arith::MulIOp::create(b, loc, colTile, index(b, loc, kTileCols));
    scf::ForOp::create(
        b, loc, index(b, loc, 0), index(b, loc, kSteps()), index(b, loc, 1),
        ValueRange(), [&](OpBuilder &nb, Location l, Value step, ValueRange) {
          Value stage = arith::RemUIOp::create(nb, l, step, stages);
          Value round = arith::DivUIOp::create(nb, l, step, stages);
          Value reused = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::uge,
                                               step, stages);
          ifThen(nb, l, reused, [&] {
            Value previous =
                arith::SubIOp::create(nb, l, round, index(nb, l, 1));
            waitParity(nb, l, arith::AddIOp::create(nb, l, stage, stages),
                       previous);
          });
          nvgpu::MBarrierArriveExpectTxOp::create(
              nb, l, barriers, index(nb, l, kStageBytes), stage, Value());
          Value k = arith::MulIOp::create(nb, l, step, index(nb, l, kTileK));
          // Coordinates innermost first: (k, row) of x, (k, column) of w.
          nvgpu::TmaAsyncLoadOp::create(
              nb, l, operandTile(nb, l, stage, 0), barriers, xMap,
              ValueRange{k, rowOrigin}, stage, Value(), Value());
          nvgpu::TmaAsyncLoadOp::create(
              nb, l, operandTile(nb, l, stage, 1), barriers, wMap,
              ValueRange{k, colOrigin}, stage, Value(), Value());
          scf::YieldOp::create(nb, l);
        });
  }

  /// Waits until barrier `barrier` completes the phase of `round`'s parity.
  void waitParity(OpBuilder &b, Location loc, Value barrier, Value round) {
    Value parity = arith::TruncIOp::create(
        b, loc, b.getI1Type(),
        arith::IndexCastUIOp::create(b, loc, b.getI64Type(), round));
    nvgpu::MBarrierTryWaitParityOp::create(b, loc, barriers, parity,
                                           index(b, loc, kSpinTicks), barrier);
  }
  /// The suspend-time hint of each try_wait (as upstream's tests use).
  static constexpr int64_t kSpinTicks = 10000000;

  /// A K-major, 128-byte-swizzled wgmma matrix descriptor of the tile at
  /// shared address `address` (PTX ISA, "Matrix Descriptor Format"): start
  /// address / 16 in bits 0-13, leading byte offset / 16 (unused by swizzled
  /// K-major layouts: 1) in bits 16-29, stride byte offset / 16 (the 1024
  /// bytes between groups of 8 rows) in bits 32-45, base offset 0 (atoms
  /// aligned), swizzle mode 1 (128 bytes) in bits 62-63.
  Value matrixDescriptor(OpBuilder &b, Location loc, Value address) {
    Type i64 = b.getI64Type();
    Value start = arith::ShRUIOp::create(
        b, loc,
        arith::AndIOp::create(
            b, loc, arith::IndexCastUIOp::create(b, loc, i64, address),
            arith::ConstantIntOp::create(b, loc, i64, 0x3FFFF)),
        arith::ConstantIntOp::create(b, loc, i64, 4));
    uint64_t fixed = (uint64_t(1) << 16) | (uint64_t(kSwizzleAtom / 16) << 32) |
                     (uint64_t(1) << 62);
    return arith::OrIOp::create(
        b, loc, start,
        arith::ConstantIntOp::create(b, loc, i64, int64_t(fixed)));
  }

  /// A consumer warpgroup (`consumer` 0 or 1: rows 64 * consumer of the
  /// tile): for each K step, waits for its stage and issues its four k16
  /// instructions; from the second step on, then waits for the previous
  /// step's and gives that step's stage back (one step of instructions in
  /// flight). The first step is peeled, so the loop has no branch (a branch
  /// between a wgmma and its accumulators' next use makes ptxas serialise
  /// them, C7520). Then stores.
  void consume(OpBuilder &b, Location loc, Value tid, Value consumer) {
    MLIRContext *context = b.getContext();
    auto accumulatorType = LLVM::LLVMStructType::getLiteral(
        context, SmallVector<Type>(kAccumulators, b.getF32Type()));
    Value stages = index(b, loc, kStages);
    Value rowsOffset = arith::MulIOp::create(
        b, loc, consumer, index(b, loc, kConsumerRows * kTileK * 2));
    // Waits for step `step`'s stage and issues its instructions on `acc`.
    auto issue = [&](OpBuilder &nb, Location l, Value step, Value acc) {
      Value stage = arith::RemUIOp::create(nb, l, step, stages);
      waitParity(nb, l, stage, arith::DivUIOp::create(nb, l, step, stages));
      Value xTile =
          arith::AddIOp::create(nb, l,
                                memref::ExtractAlignedPointerAsIndexOp::create(
                                    nb, l, operandTile(nb, l, stage, 0)),
                                rowsOffset);
      Value wTile = memref::ExtractAlignedPointerAsIndexOp::create(
          nb, l, operandTile(nb, l, stage, 1));
      NVVM::WgmmaFenceAlignedOp::create(nb, l);
      for (int64_t i = 0; i < kTileK / kInstructionK; ++i) {
        // The i-th k16 slice starts 32 bytes further along each row; the
        // hardware applies the swizzle to the address it forms.
        Value shift = index(nb, l, i * kInstructionK * 2);
        acc = NVVM::WgmmaMmaAsyncOp::create(
            nb, l, accumulatorType, acc,
            matrixDescriptor(nb, l, arith::AddIOp::create(nb, l, xTile, shift)),
            matrixDescriptor(nb, l, arith::AddIOp::create(nb, l, wTile, shift)),
            NVVM::MMAShapeAttr::get(context, 64, kTileCols, kInstructionK),
            NVVM::WGMMATypes::bf16, NVVM::WGMMATypes::bf16,
            NVVM::WGMMATypes::f32, NVVM::WGMMAScaleOut::one,
            NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one,
            NVVM::MMALayout::row, NVVM::MMALayout::col,
            NVVM::MMAIntOverflowAttr());
      }
      NVVM::WgmmaGroupSyncAlignedOp::create(nb, l);
      return acc;
    };
    Value first = issue(b, loc, index(b, loc, 0),
                        LLVM::ZeroOp::create(b, loc, accumulatorType));
    auto loop = scf::ForOp::create(
        b, loc, index(b, loc, 1), index(b, loc, kSteps()), index(b, loc, 1),
        ValueRange{first},
        [&](OpBuilder &nb, Location l, Value step, ValueRange acc) {
          Value sum = issue(nb, l, step, acc[0]);
          // This step's instructions stay in flight while the previous
          // step's are waited for; that step's stage is then free.
          NVVM::WgmmaWaitGroupSyncOp::create(nb, l, 1);
          Value previous = arith::RemUIOp::create(
              nb, l,
              arith::AddIOp::create(nb, l, step, index(nb, l, kStages - 1)),
              stages);
          nvgpu::MBarrierArriveOp::create(
              nb, l, nvgpu::MBarrierTokenType::get(context), barriers,
              arith::AddIOp::create(nb, l, previous, stages));
          scf::YieldOp::create(nb, l, sum);
        });
    // The last step's stage is not given back: nothing is copied after it.
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
    store(b, loc, tid, consumer, loop.getResult(0));
  }

  /// Accumulator i of a thread (warp w of its warpgroup, lane l) holds row
  /// 16w + l / 4 + 8 * ((i % 4) / 2) and column 8 * (i / 4) + 2 * (l % 4) +
  /// i % 2 of the warpgroup's 64 x 128 tile (PTX ISA, wgmma's D fragment).
  void store(OpBuilder &b, Location loc, Value tid, Value consumer, Value acc) {
    Value local =
        arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpgroup));
    Value warp =
        arith::DivUIOp::create(b, loc, local, index(b, loc, kWarpSize));
    Value lane =
        arith::RemUIOp::create(b, loc, local, index(b, loc, kWarpSize));
    Value rowBase = arith::AddIOp::create(
        b, loc,
        arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, rowTile, index(b, loc, kTileRows)),
            arith::MulIOp::create(b, loc, consumer,
                                  index(b, loc, kConsumerRows))),
        arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, warp, index(b, loc, 16)),
            arith::DivUIOp::create(b, loc, lane, index(b, loc, 4))));
    Value colBase = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, colTile, index(b, loc, kTileCols)),
        arith::MulIOp::create(
            b, loc, arith::RemUIOp::create(b, loc, lane, index(b, loc, 4)),
            index(b, loc, 2)));
    Value cols = index(b, loc, p.n);
    Value output = p.op.getDpsInitOperand(0)->get();
    for (int64_t half = 0; half < 2; ++half) {
      Value row =
          arith::AddIOp::create(b, loc, rowBase, index(b, loc, 8 * half));
      Value rowInside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows);
      auto guard = scf::IfOp::create(b, loc, rowInside, /*withElse=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
      SmallVector<Value> rowIndices = delinearize(b, loc, row, rowExtents);
      // Accumulators i and i + 1 (i even) are neighbours in a row: one
      // 8-byte access where the output's rows are contiguous and even.
      int64_t width = pairedStores() ? 2 : 1;
      for (int64_t i = 0; i < kAccumulators; i += width) {
        if ((i % 4) / 2 != half)
          continue;
        Value col = arith::AddIOp::create(b, loc, colBase,
                                          index(b, loc, 8 * (i / 4) + i % 2));
        Value colInside =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, cols);
        auto inside = scf::IfOp::create(b, loc, colInside, /*withElse=*/false);
        OpBuilder::InsertionGuard gi(b);
        b.setInsertionPointToStart(&inside.getThenRegion().front());
        SmallVector<Value> indices = p.outIndices(b, loc, rowIndices, col);
        if (width == 1) {
          Value start =
              init ? init : memref::LoadOp::create(b, loc, output, indices);
          Value sum = LLVM::ExtractValueOp::create(b, loc, acc, i);
          memref::StoreOp::create(b, loc,
                                  arith::AddFOp::create(b, loc, start, sum),
                                  output, indices);
          continue;
        }
        auto pair = VectorType::get({2}, b.getF32Type());
        Value start =
            init ? vector::BroadcastOp::create(b, loc, pair, init).getResult()
                 : vector::LoadOp::create(b, loc, pair, output, indices,
                                          /*nontemporal=*/false, llvm::Align(8))
                       .getResult();
        Value sum = vector::FromElementsOp::create(
            b, loc, pair,
            ValueRange{LLVM::ExtractValueOp::create(b, loc, acc, i),
                       LLVM::ExtractValueOp::create(b, loc, acc, i + 1)});
        vector::StoreOp::create(
            b, loc, arith::AddFOp::create(b, loc, start, sum), output, indices,
            /*nontemporal=*/false, llvm::Align(8));
      }
    }
  }

  /// Whether the output's rows are contiguous with an even N, so that a
  /// pair of columns (2t, 2t + 1 from an even column) is one aligned 8-byte
  /// access inside the row.
  bool pairedStores() const {
    auto type = cast<MemRefType>(p.op.getDpsInitOperand(0)->get().getType());
    AffineMap map = p.op.getMatchingIndexingMap(p.op.getDpsInitOperand(0));
    return p.n % 2 == 0 && type.getLayout().isIdentity() &&
           map.getNumResults() > 0 &&
           map.getDimPosition(map.getNumResults() - 1) == p.nDim;
  }

  Projection p;
  ArrayRef<Value> rowExtents;
  Value rows, init;
  Value rowTile, colTile;
  Value shared, firstStage;
  Value barriers;
};

} // namespace

bool wgmmaTileApplies(const Projection &p) {
  if (!p.isBF16() || p.k % 8 != 0)
    return false;
  // Tensor maps need 16-byte aligned rows: identity layouts (buffers'
  // starts) of K-long rows whose bytes are a multiple of 16.
  auto x = cast<MemRefType>(p.activation->get().getType());
  auto w = cast<MemRefType>(p.weight->get().getType());
  if (!x.getLayout().isIdentity() || !w.getLayout().isIdentity())
    return false;
  // x[rows..., k] with the rows in loop order, so that row r of the
  // [rows, K] view is the r-th row the output delinearizes.
  AffineMap map = p.op.getMatchingIndexingMap(p.activation);
  if (map.getNumResults() != p.rowDims.size() + 1)
    return false;
  for (auto [i, dim] : llvm::enumerate(p.rowDims))
    if (map.getDimPosition(i) != dim)
      return false;
  return true;
}

void buildWgmmaTile(OpBuilder &b, Location loc, const Projection &p,
                    ArrayRef<Value> rowExtents, Value rows, Value init) {
  WgmmaKernel(p, rowExtents, rows, init).build(b, loc);
}

} // namespace mlir::lm::gpu_mapping
