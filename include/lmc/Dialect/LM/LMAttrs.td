//===- LMAttrs.td - Enumerations of the lm dialect ----------*- tablegen -*-===//

#ifndef LMC_DIALECT_LM_LMATTRS_TD
#define LMC_DIALECT_LM_LMATTRS_TD

include "lmc/Dialect/LM/LMDialect.td"

// Pointwise activations.
def LM_ActivationKind : I32EnumAttr<"ActivationKind", "pointwise activation", [
    I32EnumAttrCase<"silu", 0>, I32EnumAttrCase<"gelu", 1>,
    I32EnumAttrCase<"gelu_tanh", 2>, I32EnumAttrCase<"relu", 3>,
    I32EnumAttrCase<"relu2", 4>, I32EnumAttrCase<"sigmoid", 5>,
    I32EnumAttrCase<"softplus", 6>, I32EnumAttrCase<"identity", 7>]> {
  let cppNamespace = "::mlir::lm";
  let genSpecializedAttr = 0;
}
def LM_ActivationAttr : EnumAttr<LM_Dialect, LM_ActivationKind, "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

// Gated linear units: act(gate) * up, with the clamped variants of
// DeepSeek-V4 and GPT-OSS.
def LM_GluKind : I32EnumAttr<"GluKind", "gated linear unit", [
    I32EnumAttrCase<"swiglu", 0>, I32EnumAttrCase<"geglu_tanh", 1>,
    I32EnumAttrCase<"clamped_swiglu", 2>, I32EnumAttrCase<"gpt_oss_swiglu", 3>,
    I32EnumAttrCase<"geglu", 4>]> {
  let cppNamespace = "::mlir::lm";
  let genSpecializedAttr = 0;
}
def LM_GluAttr : EnumAttr<LM_Dialect, LM_GluKind, "glu"> {
  let assemblyFormat = "`<` $value `>`";
}

// Expert feed-forward networks: the GLUs, plus the ungated squared ReLU of
// Nemotron-H (whose experts have no gate projection).
def LM_ExpertKind : I32EnumAttr<"ExpertKind", "expert feed-forward network", [
    I32EnumAttrCase<"swiglu", 0>, I32EnumAttrCase<"geglu_tanh", 1>,
    I32EnumAttrCase<"clamped_swiglu", 2>, I32EnumAttrCase<"gpt_oss_swiglu", 3>,
    I32EnumAttrCase<"relu2", 4>]> {
  let cppNamespace = "::mlir::lm";
  let genSpecializedAttr = 0;
}
def LM_ExpertAttr : EnumAttr<LM_Dialect, LM_ExpertKind, "expert"> {
  let assemblyFormat = "`<` $value `>`";
}

// How router logits become expert scores.
def LM_ScoringKind : I32EnumAttr<"ScoringKind", "router scoring function", [
    I32EnumAttrCase<"softmax", 0>, I32EnumAttrCase<"sigmoid", 1>,
    I32EnumAttrCase<"sqrtsoftplus", 2>]> {
  let cppNamespace = "::mlir::lm";
  let genSpecializedAttr = 0;
}
def LM_ScoringAttr : EnumAttr<LM_Dialect, LM_ScoringKind, "scoring"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // LMC_DIALECT_LM_LMATTRS_TD
