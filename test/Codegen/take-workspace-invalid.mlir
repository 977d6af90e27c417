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
