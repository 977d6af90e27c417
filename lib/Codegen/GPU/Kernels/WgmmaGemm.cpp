//===- WgmmaGemm.cpp - A 128 x 128 GEMM tile on Hopper tensor cores -------===//
//
// A block computes one 128 x 128 tile of `A[rows, K] B[cols, K]^T` (bf16
// operands, f32 sums), K consumed 64 at a time, on sm_90a's asynchronous
// units (HOPPER-CODEGEN.md, section 2):
//
// - one producer warpgroup, of which one thread issues the TMA copies of
//   each K step's A tile (128 rows x 64) and B tile (128 rows x 64, as one
//   box or two of 64 rows) into a ring of four stages of shared memory,
//   128-byte swizzled;
// - two consumer warpgroups, 64 rows each, that wait for a stage, issue
//   four `wgmma.mma_async.m64n128k16` (operands read from shared memory
//   through matrix descriptors, f32 accumulators in registers) and give
//   back the previous step's stage once its instructions are done;
// - per stage two mbarriers: `full` (the producer's expected bytes, which
//   the copies complete) and `empty` (every consumer thread arrives once it
//   has read the stage).
//
// Both operands are K-major (A's rows and B's rows run along K), which is
// wgmma's native form (no transposes). Rows past an operand's end arrive
// as zeros (the copies' out-of-bounds fill); the templates' epilogues store
// what exists. Two 64-row boxes of B land where one 128-row box would (the
// second 8 KB on, a multiple of the swizzle's 1 KB period), so the
// consumers see one tile either way.
//
// scripts/check-wgmma-layout.py checks the swizzle, the descriptors and the
// accumulator mapping against the PTX ISA's layouts.
//
//===----------------------------------------------------------------------===//

#include "WgmmaGemm.h"
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

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kWarpSize;
constexpr int64_t kWarpgroup = 4 * kWarpSize;
constexpr int64_t kConsumers = 2;
constexpr int64_t kConsumerRows = kWgmmaTileRows / kConsumers;
/// K per stage: one 128-byte swizzle row of bf16, four k16 instructions.
constexpr int64_t kTileK = 64;
constexpr int64_t kInstructionK = 16;
/// Stages in flight: three K steps loading while one is consumed.
/// Reasoned, not timed.
constexpr int64_t kStages = 4;
constexpr int64_t kOperandTileBytes = kWgmmaTileRows * kTileK * 2;
constexpr int64_t kStageBytes = 2 * kOperandTileBytes;
/// The 128-byte swizzle repeats every 8 rows (1024 bytes): tiles start at
/// multiples of it, so the swizzle's phase is the address's own (matrix
/// base offset 0), and the dynamic shared memory is aligned to it here.
constexpr int64_t kSwizzleAtom = 1024;
constexpr int64_t kSharedBytes = kStages * kStageBytes + kSwizzleAtom;
static_assert(WgmmaFragment::kAccumulators ==
                  kConsumerRows * kWgmmaTileCols / kWarpgroup,
              "f32 accumulators per thread of a m64n128 tile");

/// The tensor maps' type: a boxRows x 64 box in shared memory, 128-byte
/// swizzled, zeros out of bounds.
nvgpu::TensorMapDescriptorType tensorMapType(MLIRContext *context,
                                             int64_t boxRows) {
  auto tile = cast<MemRefType>(
      workgroupMemRef(context, {boxRows, kTileK}, BFloat16Type::get(context)));
  return nvgpu::TensorMapDescriptorType::get(
      context, tile, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_NONE,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
}

class WgmmaKernel {
public:
  explicit WgmmaKernel(const WgmmaGemmSpec &spec) : spec(spec) {}

  void build(OpBuilder &b, Location loc) {
    MLIRContext *context = b.getContext();
    Value one = index(b, loc, 1);
    Value sharedBytes =
        arith::ConstantIntOp::create(b, loc, b.getI32Type(), kSharedBytes);
    auto launch = gpu::LaunchOp::create(
        b, loc, spec.blocks, one, one,
        index(b, loc, (1 + kConsumers) * kWarpgroup), one, one, sharedBytes);
    nameKernel(launch, spec.name);
    OpBuilder::InsertionGuard guard(b);
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);

    place = spec.place(b, loc, launch.getBlockIds().x);
    assert(int64_t(place.bRows.size()) == spec.bBoxes &&
           "a B row per box of the tile");
    if (place.exists) {
      // Uniform across the block: a block without a tile skips the
      // barriers too.
      auto branch = scf::IfOp::create(b, loc, place.exists, false);
      b.setInsertionPointToStart(&branch.getThenRegion().front());
    }
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
    ifThen(b, loc, first, [&] { produce(b, loc); });
    b.setInsertionPointToStart(&roles.getElseRegion().front());
    consume(b, loc, tid,
            arith::SubIOp::create(b, loc, warpgroup, index(b, loc, 1)));
  }

private:
  int64_t kSteps() const { return llvm::divideCeil(spec.k, kTileK); }
  static int64_t full(int64_t stage) { return stage; }
  static int64_t empty(int64_t stage) { return kStages + stage; }

  static nvgpu::MBarrierGroupType barrierType(MLIRContext *context) {
    return nvgpu::MBarrierGroupType::get(
        context,
        gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup),
        2 * kStages);
  }

  /// The dynamic shared memory and the byte offset, from its start, of the
  /// first stage: the next multiple of the swizzle atom.
  void stageBase(OpBuilder &b, Location loc) {
    shared = dynamicShared(b, loc);
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
    Value atom = index(b, loc, kSwizzleAtom);
    Value misalignment = arith::RemUIOp::create(b, loc, address, atom);
    firstStage = arith::RemUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, atom, misalignment), atom);
  }

  /// Stage `stage`'s tile of A (operand 0) or B (operand 1), as a view of
  /// `rows` rows from row `fromRow`.
  Value operandTile(OpBuilder &b, Location loc, Value stage, int64_t operand,
                    int64_t rows = kWgmmaTileRows, int64_t fromRow = 0) {
    Value offset = arith::AddIOp::create(
        b, loc, firstStage,
        arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc, stage, index(b, loc, kStageBytes)),
            index(b, loc, operand * kOperandTileBytes + fromRow * kTileK * 2)));
    return memref::ViewOp::create(
        b, loc,
        workgroupMemRef(b.getContext(), {rows, kTileK}, b.getBF16Type()),
        shared, offset, ValueRange());
  }

  /// The producer's one thread: fences and prefetches the tensor maps; then,
  /// for each K step, waits until its stage is free (from the second round
  /// on), announces the bytes and issues the copies, which complete the
  /// stage's `full` barrier.
  void produce(OpBuilder &b, Location loc) {
    // The maps were written by the host (a copy into device memory): the
    // copy unit reads them only after this fence, as the CUDA programming
    // guide asks of maps in global memory.
    SmallVector<Value, 3> maps = {spec.aMap};
    maps.append(spec.bMaps.begin(), spec.bMaps.end());
    for (Value map : maps) {
      nvgpu::TmaFenceOp::create(b, loc, map);
      nvgpu::TmaPrefetchOp::create(b, loc, map, Value());
    }
    Value stages = index(b, loc, kStages);
    int64_t boxRows = kWgmmaTileRows / spec.bBoxes;
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
          // Coordinates innermost first: (k, row) of A, (k, row) of B.
          nvgpu::TmaAsyncLoadOp::create(
              nb, l, operandTile(nb, l, stage, 0), barriers, spec.aMap,
              ValueRange{k, place.aRow}, stage, Value(), Value());
          for (auto [box, bRow] : llvm::enumerate(place.bRows))
            nvgpu::TmaAsyncLoadOp::create(
                nb, l, operandTile(nb, l, stage, 1, boxRows, box * boxRows),
                barriers, spec.bMaps[spec.bMaps.size() == 1 ? 0 : box],
                ValueRange{k, bRow}, stage, Value(), Value());
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
  /// them, C7520). Then the epilogue.
  void consume(OpBuilder &b, Location loc, Value tid, Value consumer) {
    MLIRContext *context = b.getContext();
    auto accumulatorType = LLVM::LLVMStructType::getLiteral(
        context,
        SmallVector<Type>(WgmmaFragment::kAccumulators, b.getF32Type()));
    Value stages = index(b, loc, kStages);
    Value rowsOffset = arith::MulIOp::create(
        b, loc, consumer, index(b, loc, kConsumerRows * kTileK * 2));
    // Waits for step `step`'s stage and issues its instructions on `acc`.
    auto issue = [&](OpBuilder &nb, Location l, Value step, Value acc) {
      Value stage = arith::RemUIOp::create(nb, l, step, stages);
      waitParity(nb, l, stage, arith::DivUIOp::create(nb, l, step, stages));
      Value aTile =
          arith::AddIOp::create(nb, l,
                                memref::ExtractAlignedPointerAsIndexOp::create(
                                    nb, l, operandTile(nb, l, stage, 0)),
                                rowsOffset);
      Value bTile = memref::ExtractAlignedPointerAsIndexOp::create(
          nb, l, operandTile(nb, l, stage, 1));
      NVVM::WgmmaFenceAlignedOp::create(nb, l);
      for (int64_t i = 0; i < kTileK / kInstructionK; ++i) {
        // The i-th k16 slice starts 32 bytes further along each row; the
        // hardware applies the swizzle to the address it forms.
        Value shift = index(nb, l, i * kInstructionK * 2);
        acc = NVVM::WgmmaMmaAsyncOp::create(
            nb, l, accumulatorType, acc,
            matrixDescriptor(nb, l, arith::AddIOp::create(nb, l, aTile, shift)),
            matrixDescriptor(nb, l, arith::AddIOp::create(nb, l, bTile, shift)),
            NVVM::MMAShapeAttr::get(context, 64, kWgmmaTileCols, kInstructionK),
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
    spec.epilogue(b, loc, place,
                  fragment(b, loc, tid, consumer, loop.getResult(0)));
  }

  /// Accumulator i of a thread (warp w of its warpgroup, lane l) holds row
  /// 16w + l / 4 + 8 * ((i % 4) / 2) and column 8 * (i / 4) + 2 * (l % 4) +
  /// i % 2 of the warpgroup's 64 x 128 tile (PTX ISA, wgmma's D fragment);
  /// the fragment's rows are A's.
  WgmmaFragment fragment(OpBuilder &b, Location loc, Value tid, Value consumer,
                         Value acc) {
    Value local =
        arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpgroup));
    Value warp =
        arith::DivUIOp::create(b, loc, local, index(b, loc, kWarpSize));
    Value lane =
        arith::RemUIOp::create(b, loc, local, index(b, loc, kWarpSize));
    Value row = arith::AddIOp::create(
        b, loc,
        arith::AddIOp::create(
            b, loc, place.aRow,
            arith::MulIOp::create(b, loc, consumer,
                                  index(b, loc, kConsumerRows))),
        arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, warp, index(b, loc, 16)),
            arith::DivUIOp::create(b, loc, lane, index(b, loc, 4))));
    Value col = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, lane, index(b, loc, 4)),
        index(b, loc, 2));
    return {acc, row, col};
  }

  const WgmmaGemmSpec &spec;
  WgmmaTilePlace place;
  Value shared, firstStage;
  Value barriers;
};

} // namespace

Value WgmmaFragment::at(OpBuilder &b, Location loc, int64_t i) const {
  return LLVM::ExtractValueOp::create(b, loc, accumulators, i);
}

Value makeWgmmaTensorMap(OpBuilder &b, Location loc, Value buffer,
                         int64_t boxRows) {
  auto type = cast<MemRefType>(buffer.getType());
  Value unranked = memref::CastOp::create(
      b, loc,
      UnrankedMemRefType::get(type.getElementType(), type.getMemorySpace()),
      buffer);
  Value box[] = {index(b, loc, boxRows), index(b, loc, kTileK)};
  return nvgpu::TmaCreateDescriptorOp::create(
      b, loc, tensorMapType(b.getContext(), boxRows), unranked, box);
}

void buildWgmmaGemm(OpBuilder &b, Location loc, const WgmmaGemmSpec &spec) {
  assert((spec.bBoxes == 1 || spec.bBoxes == 2) && "B as one or two boxes");
  assert(
      (spec.bMaps.size() == 1 || int64_t(spec.bMaps.size()) == spec.bBoxes) &&
      "one B map, or one per box");
  WgmmaKernel(spec).build(b, loc);
}

} // namespace mlir::lm::gpu_mapping
