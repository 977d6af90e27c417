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
  auto rank = cast<MemRefType>(buffer.getType()).getRank();
  return loadSlice(b, loc, BufferWindow{buffer, SmallVector<int64_t>(rank, 0)},
                   std::move(indices), elements, size, whole);
}

Value loadSlice(OpBuilder &b, Location loc, const BufferWindow &window,
                SmallVector<Value> indices, int64_t elements, int64_t size,
                bool whole) {
  auto type = cast<MemRefType>(window.buffer.getType());
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
      // Clamped inside the view's row, then moved into the window.
      indices.back() = arith::MinUIOp::create(b, loc, at, last);
      values.push_back(arith::SelectOp::create(
          b, loc, inside,
          memref::LoadOp::create(b, loc, window.buffer,
                                 window.at(b, loc, indices)),
          zero));
    }
    return vector::FromElementsOp::create(b, loc, vectorType, values);
  }
  // Slices start at multiples of their bytes when the buffer is an
  // allocation's start whose rows are whole slices and the window's offset
  // along the row is a multiple of the slice; a vector load then needs no
  // splitting.
  llvm::MaybeAlign align;
  int64_t bytes = elements * type.getElementTypeBitWidth() / 8;
  int64_t row = type.getShape().back();
  if (type.getLayout().isIdentity() && llvm::isPowerOf2_64(bytes) &&
      !ShapedType::isDynamic(row) && row % elements == 0 &&
      window.offsets.back() % elements == 0)
    align = llvm::Align(std::min<int64_t>(bytes, 16));
  return vector::LoadOp::create(b, loc, vectorType, window.buffer,
                                window.at(b, loc, indices),
                                /*nontemporal=*/false, align);
}

Value asElementOf(OpBuilder &b, Location loc, Value value, Value buffer) {
  Type element = cast<MemRefType>(buffer.getType()).getElementType();
  if (value.getType() == element)
    return value;
  return arith::TruncFOp::create(b, loc, element, value);
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

BufferWindow throughWindow(Value view) {
  auto rank = cast<MemRefType>(view.getType()).getRank();
  BufferWindow window{view, SmallVector<int64_t>(rank, 0)};
  while (auto subview = window.buffer.getDefiningOp<memref::SubViewOp>()) {
    auto isOne = [](int64_t v) { return v == 1; };
    if (ShapedType::isDynamicShape(subview.getStaticOffsets()) ||
        !llvm::all_of(subview.getStaticStrides(), isOne) ||
        subview.getSourceType().getRank() != rank)
      break;
    for (auto [total, offset] :
         llvm::zip_equal(window.offsets, subview.getStaticOffsets()))
      total += offset;
    window.buffer = subview.getSource();
  }
  return window;
}

SmallVector<Value> BufferWindow::at(OpBuilder &b, Location loc,
                                    ArrayRef<Value> indices) const {
  SmallVector<Value> shifted(indices);
  for (auto [index, offset] : llvm::zip_equal(shifted, offsets))
    if (offset != 0)
      index = arith::AddIOp::create(
          b, loc, index, arith::ConstantIndexOp::create(b, loc, offset));
  return shifted;
}

Value throughCorner(Value view) {
  BufferWindow window = throughWindow(view);
  return llvm::all_of(window.offsets, [](int64_t v) { return v == 0; })
             ? window.buffer
             : view;
}

} // namespace mlir::lm::gpu_mapping
