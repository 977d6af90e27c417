//===- ScalarFunctions.h - Scalar formulas shared by lowerings --*- C++ -*-===//
//
// The f32 formulas of lm's pointwise ops (activations, GLUs), built on f32
// scalars: the one home of each, shared by the linalg bodies of
// lm-lower-to-linalg and the epilogues of the GPU kernel templates, so that
// a fused kernel computes what the unfused op did.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_LIB_CODEGEN_SCALARFUNCTIONS_H
#define LMC_LIB_CODEGEN_SCALARFUNCTIONS_H

#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::lm::lowering {

Value f32Constant(OpBuilder &b, Location loc, double value);
/// An f32 scalar or vector rounded to bf16 (nearest even) and widened back:
/// what a bf16 product sees (lm.attention's bf16_products).
Value throughBF16(OpBuilder &b, Location loc, Value x);
Value sigmoid(OpBuilder &b, Location loc, Value x);
Value silu(OpBuilder &b, Location loc, Value x);
Value geluTanh(OpBuilder &b, Location loc, Value x);
Value softplus(OpBuilder &b, Location loc, Value x);
Value applyActivation(OpBuilder &b, Location loc, ActivationKind kind, Value x);
/// act(gate) * up for a GLU kind (alpha/limit for the clamped kinds).
Value applyGlu(OpBuilder &b, Location loc, GluKind kind, Value gate, Value up,
               double alpha, double limit);
/// An expert's activation (lm.moe_experts): relu(gate)^2 for relu2 (`up`
/// unused), else the GLU of its kind.
Value applyExpertActivation(OpBuilder &b, Location loc, ExpertKind kind,
                            Value gate, Value up, double alpha, double limit);

} // namespace mlir::lm::lowering

#endif // LMC_LIB_CODEGEN_SCALARFUNCTIONS_H
