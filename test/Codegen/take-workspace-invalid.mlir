// RUN: lmc-opt %s --split-input-file --lm-take-workspace --verify-diagnostics

// A size read from memory the call holds cannot be known before the call.
func.func @forward(%sizes: memref<1xindex>) {
  %c0 = arith.constant 0 : index
  // expected-error @below {{computes the arena's size from what the call reads or writes}}
  %n = memref.load %sizes[%c0] : memref<1xindex>
  %arena = gpu.alloc (%n) {lm.arena} : memref<?xi8>
  gpu.dealloc %arena : memref<?xi8>
  return
}

// -----

// Two arenas: not what lm-plan-arena makes.
func.func @forward(%n: index) {
  %a = gpu.alloc (%n) {lm.arena} : memref<?xi8>
  // expected-error @below {{is not the one arena lm-take-workspace expects}}
  %b = gpu.alloc (%n) {lm.arena} : memref<?xi8>
  return
}

// -----

// A size that shrinks as the tokens grow: the session's largest step would
// not bound the others'.
func.func @forward(%ids: memref<?x?xi64>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %t = memref.dim %ids, %c1 : memref<?x?xi64>
  // expected-error @below {{makes the arena's size shrink as the call's tokens or context grow}}
  %n = arith.subi %c64, %t : index
  %arena = gpu.alloc (%n) {lm.arena} : memref<?xi8>
  gpu.dealloc %arena : memref<?xi8>
  return
}

// -----

// Dividing by the context.
func.func @forward(%ids: memref<?x?xi64>, %context: index {lm.name = "context"}) {
  %c0 = arith.constant 0 : index
  %c4096 = arith.constant 4096 : index
  %b = memref.dim %ids, %c0 : memref<?x?xi64>
  %per = arith.muli %b, %c4096 : index
  // expected-error @below {{makes the arena's size shrink}}
  %n = arith.ceildivui %per, %context : index
  %arena = gpu.alloc (%n) {lm.arena} : memref<?xi8>
  gpu.dealloc %arena : memref<?xi8>
  return
}

// -----

// A remainder wraps as the context grows.
func.func @forward(%context: index {lm.name = "context"}) {
  // expected-error @below {{makes the arena's size shrink}}
  %n = affine.apply affine_map<()[s0] -> (s0 mod 64 + 8)>()[%context]
  %arena = gpu.alloc (%n) {lm.arena} : memref<?xi8>
  gpu.dealloc %arena : memref<?xi8>
  return
}

