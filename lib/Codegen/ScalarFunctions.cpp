//===- ScalarFunctions.cpp - Scalar formulas shared by lowerings ----------===//

#include "ScalarFunctions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;

Value lowering::f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(static_cast<float>(value)));
}

Value lowering::throughBF16(OpBuilder &b, Location loc, Value x) {
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type();
  if (auto vector = dyn_cast<VectorType>(x.getType())) {
    bf16 = vector.clone(bf16);
    f32 = vector.clone(f32);
  }
  Value rounded = arith::TruncFOp::create(b, loc, bf16, x);
  return arith::ExtFOp::create(b, loc, f32, rounded);
}

Value lowering::sigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = f32Constant(b, loc, 1.0);
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return arith::DivFOp::create(b, loc, one,
                               arith::AddFOp::create(b, loc, one, e));
}

Value lowering::silu(OpBuilder &b, Location loc, Value x) {
  return arith::MulFOp::create(b, loc, x, sigmoid(b, loc, x));
}

Value lowering::geluTanh(OpBuilder &b, Location loc, Value x) {
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  Value x3 =
      arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
  Value inner = arith::AddFOp::create(
      b, loc, x,
      arith::MulFOp::create(b, loc, f32Constant(b, loc, 0.044715), x3));
  Value t = math::TanhOp::create(
      b, loc,
      arith::MulFOp::create(b, loc, f32Constant(b, loc, std::sqrt(2.0 / M_PI)),
                            inner));
  Value half = arith::MulFOp::create(b, loc, f32Constant(b, loc, 0.5), x);
  return arith::MulFOp::create(
      b, loc, half, arith::AddFOp::create(b, loc, f32Constant(b, loc, 1.0), t));
}

Value lowering::softplus(OpBuilder &b, Location loc, Value x) {
  // torch: linear above 20.
  Value soft = math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
  Value big = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                    f32Constant(b, loc, 20.0));
  return arith::SelectOp::create(b, loc, big, x, soft);
}

Value lowering::applyActivation(OpBuilder &b, Location loc, ActivationKind kind,
                                Value x) {
  switch (kind) {
  case ActivationKind::silu:
    return silu(b, loc, x);
  case ActivationKind::gelu: {
    Value scaled =
        arith::MulFOp::create(b, loc, x, f32Constant(b, loc, M_SQRT1_2));
    Value erf = math::ErfOp::create(b, loc, scaled);
    Value half = arith::MulFOp::create(b, loc, f32Constant(b, loc, 0.5), x);
    return arith::MulFOp::create(
        b, loc, half,
        arith::AddFOp::create(b, loc, f32Constant(b, loc, 1.0), erf));
  }
  case ActivationKind::gelu_tanh:
    return geluTanh(b, loc, x);
  case ActivationKind::relu:
    return arith::MaximumFOp::create(b, loc, x, f32Constant(b, loc, 0.0));
  case ActivationKind::relu2: {
    Value r = arith::MaximumFOp::create(b, loc, x, f32Constant(b, loc, 0.0));
    return arith::MulFOp::create(b, loc, r, r);
  }
  case ActivationKind::sigmoid:
    return sigmoid(b, loc, x);
  case ActivationKind::softplus:
    return softplus(b, loc, x);
  case ActivationKind::identity:
    return x;
  }
  llvm_unreachable("unknown activation");
}

/// The clamped GLUs' operands: min(gate, limit), clamp(up, -limit, limit).
static std::pair<Value, Value> clampGateUp(OpBuilder &b, Location loc,
                                           Value gate, Value up, double limit) {
  Value l = lowering::f32Constant(b, loc, limit);
  Value g = arith::MinimumFOp::create(b, loc, gate, l);
  Value u = arith::MaximumFOp::create(b, loc,
                                      arith::MinimumFOp::create(b, loc, up, l),
                                      lowering::f32Constant(b, loc, -limit));
  return {g, u};
}

Value lowering::applyGlu(OpBuilder &b, Location loc, GluKind kind, Value gate,
                         Value up, double alpha, double limit) {
  switch (kind) {
  case GluKind::swiglu:
    return arith::MulFOp::create(b, loc, silu(b, loc, gate), up);
  case GluKind::geglu_tanh:
    return arith::MulFOp::create(b, loc, geluTanh(b, loc, gate), up);
  case GluKind::geglu:
    return arith::MulFOp::create(
        b, loc, applyActivation(b, loc, ActivationKind::gelu, gate), up);
  case GluKind::clamped_swiglu: {
    auto [g, u] = clampGateUp(b, loc, gate, up, limit);
    return arith::MulFOp::create(b, loc, silu(b, loc, g), u);
  }
  case GluKind::gpt_oss_swiglu: {
    auto [g, u] = clampGateUp(b, loc, gate, up, limit);
    Value glu = arith::MulFOp::create(
        b, loc, g,
        sigmoid(b, loc,
                arith::MulFOp::create(b, loc, f32Constant(b, loc, alpha), g)));
    return arith::MulFOp::create(
        b, loc, arith::AddFOp::create(b, loc, u, f32Constant(b, loc, 1.0)),
        glu);
  }
  }
  llvm_unreachable("unknown glu");
}

Value lowering::applyExpertActivation(OpBuilder &b, Location loc,
                                      ExpertKind kind, Value gate, Value up,
                                      double alpha, double limit) {
  auto glu = [&](GluKind glu) {
    return applyGlu(b, loc, glu, gate, up, alpha, limit);
  };
  switch (kind) {
  case ExpertKind::relu2:
    return applyActivation(b, loc, ActivationKind::relu2, gate);
  case ExpertKind::swiglu:
    return glu(GluKind::swiglu);
  case ExpertKind::geglu_tanh:
    return glu(GluKind::geglu_tanh);
  case ExpertKind::clamped_swiglu:
    return glu(GluKind::clamped_swiglu);
  case ExpertKind::gpt_oss_swiglu:
    return glu(GluKind::gpt_oss_swiglu);
  }
  llvm_unreachable("unknown expert activation");
}
