//===- Common.cpp - What the kernel templates share -----------------------===//

#include "Kernels.h"

#include "../../ScalarFunctions.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace mlir::lm::gpu_mapping {

void ifThen(OpBuilder &b, Location loc, Value condition,
            function_ref<void()> body) {
  auto branch = scf::IfOp::create(b, loc, condition, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&branch.getThenRegion().front());
  body();
}

Value acrossLanes(OpBuilder &b, Location loc, Value value,
                  ArrayRef<int64_t> offsets,
                  function_ref<Value(Value, Value)> combine) {
  Value width = arith::ConstantIntOp::create(b, loc, gpu_target::kWarpSize, 32);
  for (int64_t offset : offsets) {
    Value other =
        gpu::ShuffleOp::create(b, loc, value,
                               arith::ConstantIntOp::create(b, loc, offset, 32),
                               width, gpu::ShuffleMode::XOR)
            .getShuffleResult();
    value = combine(value, other);
  }
  return value;
}

Value warpSum(OpBuilder &b, Location loc, Value value) {
  return acrossLanes(b, loc, value, {16, 8, 4, 2, 1}, [&](Value x, Value y) {
    return arith::AddFOp::create(b, loc, x, y).getResult();
  });
}

std::pair<Value, Value> visibleKeys(OpBuilder &b, Location loc, Value pos,
                                    Value keys, std::optional<uint64_t> window,
                                    std::optional<uint64_t> chunk) {
  auto i64 = [&](int64_t value) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), value);
  };
  Value next = arith::AddIOp::create(b, loc, pos, i64(1));
  Value end = arith::MinSIOp::create(b, loc, next, keys);
  Value lo = i64(0);
  if (window)
    lo = arith::MaxSIOp::create(
        b, loc,
        arith::SubIOp::create(b, loc, next, i64(static_cast<int64_t>(*window))),
        lo);
  if (chunk) {
    Value size = i64(static_cast<int64_t>(*chunk));
    lo = arith::MaxSIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, arith::DivSIOp::create(b, loc, pos, size),
                              size),
        lo);
  }
  return {lo, end};
}

Value softmaxWeight(OpBuilder &b, Location loc, Value x, Value max) {
  Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                                      lowering::f32Constant(b, loc, -INFINITY));
  Value weight =
      math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, x, max));
  return arith::SelectOp::create(b, loc, empty,
                                 lowering::f32Constant(b, loc, 0.0), weight);
}

Value loadSlice(OpBuilder &b, Location loc, Value buffer,
                SmallVector<Value> indices, int64_t elements, int64_t size,
                bool whole) {
  auto type = cast<MemRefType>(buffer.getType());
  auto vectorType = VectorType::get({elements}, type.getElementType());
  if (!whole || !type.isLastDimUnitStride()) {
    SmallVector<Value> values;
    Value first = indices.back();
    Value last = index(b, loc, size - 1);
    Value zero =
        arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
    for (int64_t e = 0; e < elements; ++e) {
      Value at = arith::AddIOp::create(b, loc, first, index(b, loc, e));
      Value inside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, at, last);
      indices.back() = arith::MinUIOp::create(b, loc, at, last);
      values.push_back(arith::SelectOp::create(
          b, loc, inside, memref::LoadOp::create(b, loc, buffer, indices),
          zero));
    }
    return vector::FromElementsOp::create(b, loc, vectorType, values);
  }
  // Slices start at multiples of their bytes when the buffer is an
  // allocation's start; a vector load then needs no splitting.
  llvm::MaybeAlign align;
  int64_t bytes = elements * type.getElementTypeBitWidth() / 8;
  if (type.getLayout().isIdentity() && llvm::isPowerOf2_64(bytes))
    align = llvm::Align(std::min<int64_t>(bytes, 16));
  return vector::LoadOp::create(b, loc, vectorType, buffer, indices,
                                /*nontemporal=*/false, align);
}

Value toF32(OpBuilder &b, Location loc, Value value) {
  Type f32 = b.getF32Type();
  if (auto vector = dyn_cast<VectorType>(value.getType())) {
    if (vector.getElementType().isF32())
      return value;
    return arith::ExtFOp::create(b, loc, vector.clone(f32), value);
  }
  if (value.getType().isF32())
    return value;
  return arith::ExtFOp::create(b, loc, f32, value);
}

Value throughCorner(Value view) {
  while (auto subview = view.getDefiningOp<memref::SubViewOp>()) {
    auto isZero = [](int64_t v) { return v == 0; };
    auto isOne = [](int64_t v) { return v == 1; };
    if (!llvm::all_of(subview.getStaticOffsets(), isZero) ||
        !llvm::all_of(subview.getStaticStrides(), isOne) ||
        subview.getSourceType().getRank() != subview.getType().getRank())
      break;
    view = subview.getSource();
  }
  return view;
}

} // namespace mlir::lm::gpu_mapping
