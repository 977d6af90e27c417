//===- LMKernelOps.td - Kernel choices of the lm dialect ----*- tablegen -*-===//
//
// Ops that stand for a kernel template chosen for a target (by
// lm-select-gpu-kernels), not for an architectural concept. They keep the
// semantics of the op they replace for the phase they were chosen for, are
// destination-style (they take tensors, then, after bufferization, memrefs)
// and become the template's launches after bufferization
// (lm-map-kernel-ops-to-gpu). The host pipeline never makes them.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_LMKERNELOPS_TD
#define LMC_DIALECT_LM_LMKERNELOPS_TD

include "lmc/Dialect/LM/LMDialect.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def LM_TensorOrMemRef : AnyTypeOf<[AnyRankedTensor, AnyMemRef]>;

class LM_KernelOp<string mnemonic, list<Trait> traits = []>
    : LM_Op<mnemonic, !listconcat(traits, [
        DestinationStyleOpInterface,
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
        DeclareOpInterfaceMethods<BufferizableOpInterface,
            ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
             "getAliasingValues", "bufferize"]>])> {
  let results = (outs Variadic<AnyRankedTensor>:$results);
}

def LM_FlashDecodeOp : LM_KernelOp<"flash_decode"> {
  let summary = "lm.attention of one query token per sequence, split over "
                "the keys (flash decoding)";
  let description = [{
    `lm.attention` (same operands, attributes and masks) for `query` of one
    token per sequence (`[B, 1, H, Dk]`), as a GPU kernel: the keys each
    sequence sees are cut into `P` contiguous splits, `P` the third
    dimension of `partials` (`[B, H, P, Dv + 2]`, f32). A block of `warps`
    warps per (sequence, kv head, split) reads each of its keys and values
    once for the whole query-head group and leaves, per query head, the
    split's unnormalised weighted sum of values relative to its running
    maximum, then that maximum and the sum of weights
    (`partials[b, h, p] = [acc_0 .. acc_{Dv-1}, max, sum]`); a second kernel
    rescales the splits to their common maximum, adds the sink's weight, and
    writes `init` (`[B, 1, H, Dv]`, f32).

    Results are the two inits on tensors, none on memrefs.

    ```mlir
    %partials, %o = lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%init)
        {scale = 0.125 : f64, warps = 8 : i64}
        : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x64xf32>,
           tensor<?x?xi64>, tensor<?x4x?x66xf32>, tensor<?x?x4x64xf32>)
        -> (tensor<?x4x?x66xf32>, tensor<?x?x4x64xf32>)
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$query, LM_TensorOrMemRef:$key,
                       LM_TensorOrMemRef:$value, LM_TensorOrMemRef:$positions,
                       Optional<LM_TensorOrMemRef>:$sinks,
                       LM_TensorOrMemRef:$partials, LM_TensorOrMemRef:$init,
                       F64Attr:$scale, OptionalAttr<I64Attr>:$sliding_window,
                       OptionalAttr<I64Attr>:$chunk_size,
                       OptionalAttr<F64Attr>:$softcap, I64Attr:$warps);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions (`sinks` $sinks^)?
    `partials` `(` $partials `)` `outs` `(` $init `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// partials and init: the last two operands.
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 2, 2);
    }
    /// Query heads per kv head.
    int64_t getGroupSize();
  }];
  let hasVerifier = 1;
}

#endif // LMC_DIALECT_LM_LMKERNELOPS_TD
