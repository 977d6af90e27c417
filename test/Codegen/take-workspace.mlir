// RUN: lmc-opt %s --split-input-file --lm-take-workspace | FileCheck %s

// The arena (a gpu.alloc marked lm.arena) becomes @forward's last argument,
// named `workspace`; its free goes; its size, from the tokens (a dimension
// of the ids: it may grow) and the context (the scalar argument: it may
// grow; the size is a maximum of growing values, so it grows too), becomes
// @forward_workspace_bytes of the same arguments.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[IDS:.*]]: memref<?x?xi64>, %[[CONTEXT:.*]]: index {lm.name = "context"}, %[[OUT:.*]]: memref<?x?x8xf32>, %[[WORKSPACE:.*]]: memref<?xi8> {lm.name = "workspace"})
// CHECK-NOT: gpu.alloc
// CHECK: memref.view %[[WORKSPACE]][%{{.*}}][%{{.*}}] : memref<?xi8> to memref<?x8xf32>
// CHECK-NOT: gpu.dealloc
// CHECK: return
// CHECK: func.func @forward_workspace_bytes(%[[IDS2:[^:]*]]: memref<?x?xi64>, %[[CONTEXT2:[^:]*]]: index, %{{[^:]*}}: memref<?x?x8xf32>, %{{[^:]*}}: memref<?xi8>) -> index
// CHECK: %[[T:.*]] = memref.dim %[[IDS2]], %{{.*}} : memref<?x?xi64>
// CHECK: %[[ROWS:.*]] = arith.muli %[[T]], %{{.*}} : index
// CHECK: %[[BYTES:.*]] = arith.maxui %[[ROWS]], %[[CONTEXT2]] : index
// CHECK: return %[[BYTES]] : index
func.func @forward(%ids: memref<?x?xi64>, %context: index {lm.name = "context"}, %out: memref<?x?x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %t = memref.dim %ids, %c1 : memref<?x?xi64>
  %rows = arith.muli %t, %c32 : index
  %bytes = arith.maxui %rows, %context : index
  %arena = gpu.alloc (%bytes) {lm.arena} : memref<?xi8>
  %v = memref.view %arena[%c0][%t] : memref<?xi8> to memref<?x8xf32>
  gpu.dealloc %arena : memref<?xi8>
  return
}

// -----

// No temporaries: a workspace of 0 bytes.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %{{.*}}: memref<?xi8> {lm.name = "workspace"})
// CHECK: func.func @forward_workspace_bytes(
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: return %[[ZERO]]
func.func @forward(%out: memref<4xf32>) {
  return
}

// -----

// Affine maps of growing sizes that never shrink (a sum, a floor division
// by a constant: DeepSeek-V4's compressed entries) are accepted.
// CHECK-LABEL: func.func @forward(
// CHECK: func.func @forward_workspace_bytes(
// CHECK: affine.apply
// CHECK: return
func.func @forward(%ids: memref<?x?xi64>, %context: index {lm.name = "context"}) {
  %c1 = arith.constant 1 : index
  %t = memref.dim %ids, %c1 : memref<?x?xi64>
  %n = affine.apply affine_map<()[s0, s1] -> ((s0 + s1) floordiv 4)>()[%context, %t]
  %arena = gpu.alloc (%n) {lm.arena} : memref<?xi8>
  gpu.dealloc %arena : memref<?xi8>
  return
}

