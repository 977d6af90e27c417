//===- LMDialect.td - The lm dialect and its base classes ---*- tablegen -*-===//
//
// The `lm` dialect describes language-model forward passes at the level of
// architectural concepts: one op per concept (a norm, a rotary embedding, an
// attention core, a router, a recurrence), attributes for the variant.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_LMDIALECT_TD
#define LMC_DIALECT_LM_LMDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def LM_Dialect : Dialect {
  let name = "lm";
  let cppNamespace = "::mlir::lm";
  let summary = "Architectural building blocks of large language models";
  let description = [{
    The `lm` dialect is the model-level IR of lmc. Activations are ranked
    tensors laid out `[batch, tokens, channels]` (or `[batch, tokens, heads,
    head_dim]` between `lm.split_heads` and `lm.merge_heads`) with dynamic
    batch and token dimensions. Weights are referred to by their checkpoint
    name (`lm.weight`), never inlined. Inference state (KV, latent, key,
    compressed and recurrent caches) is carried as typed SSA values threaded through the
    forward function, so prefill and decode are the same graph.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect"];
}

class LM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LM_Dialect, mnemonic, traits>;

class LM_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<LM_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

class LM_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<LM_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

// Activations are float tensors; token ids and expert indices are integers.
def LM_FloatTensor : RankedTensorOf<[AnyFloat]>;
def LM_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;
def LM_AnyTensor : RankedTensorOf<[AnyType]>;

#endif // LMC_DIALECT_LM_LMDIALECT_TD
