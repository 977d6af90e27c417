// RUN: lmc-opt %s --lm-gpu-stream-order --split-input-file --verify-diagnostics | FileCheck %s

// Every GPU op joins the one stream made at the function's entry: launches
// inside the host's kernel choice (scf.if) need no wait before, inside or
// after the branch. The host waits once, after the copy of the scalar it
// reads back, and the function returns with its work queued.
// CHECK-LABEL: func.func @forward
// CHECK-NEXT: %[[S:.*]] = gpu.wait async
// CHECK: %[[BUF:.*]], %{{.*}} = gpu.alloc async [%[[S]]] (%arg1)
// CHECK: scf.if
// CHECK-NEXT: gpu.launch_func async [%[[S]]] @kernels::@small
// CHECK-NEXT: } else {
// CHECK-NEXT: gpu.launch_func async [%[[S]]] @kernels::@large
// CHECK-NEXT: }
// CHECK-NEXT: gpu.launch_func async [%[[S]]] @kernels::@next
// CHECK-NEXT: %[[HOST:.*]] = memref.alloca
// CHECK-NEXT: %[[VIEW:.*]] = memref.subview %[[BUF]]
// CHECK-NEXT: gpu.memcpy async [%[[S]]] %[[HOST]], %[[VIEW]]
// CHECK-NEXT: gpu.wait [%[[S]]]
// CHECK-NEXT: memref.load %[[HOST]]
// CHECK-NEXT: gpu.dealloc async [%[[S]]] %[[BUF]]
// CHECK-NOT: gpu.wait
// CHECK: return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @small(%buf: memref<?xf32>) kernel { gpu.return }
    gpu.func @large(%buf: memref<?xf32>) kernel { gpu.return }
    gpu.func @next(%buf: memref<?xf32>) kernel { gpu.return }
  }
  func.func @forward(%rows: index, %n: index) -> f32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %buf = gpu.alloc (%n) : memref<?xf32>
    %few = arith.cmpi ult, %rows, %c16 : index
    scf.if %few {
      gpu.launch_func @kernels::@small blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%buf : memref<?xf32>)
    } else {
      gpu.launch_func @kernels::@large blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%buf : memref<?xf32>)
    }
    gpu.launch_func @kernels::@next blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%buf : memref<?xf32>)
    %host = memref.alloca() : memref<1xf32>
    %view = memref.subview %buf[0] [1] [1] : memref<?xf32> to memref<1xf32, strided<[1]>>
    gpu.memcpy %host, %view : memref<1xf32>, memref<1xf32, strided<[1]>>
    %value = memref.load %host[%c0] : memref<1xf32>
    gpu.dealloc %buf : memref<?xf32>
    return %value : f32
  }
}

// -----

// A copy between device buffers needs no wait; a function without GPU ops
// is left as it is.
// CHECK-LABEL: func.func @device_copy
// CHECK-NEXT: %[[S:.*]] = gpu.wait async
// CHECK-NEXT: gpu.memcpy async [%[[S]]]
// CHECK-NEXT: return
// CHECK-LABEL: func.func @host_only
// CHECK-NEXT: return
module attributes {gpu.container_module} {
  func.func @device_copy(%a: memref<4xf32>, %b: memref<4xf32>) {
    gpu.memcpy %a, %b : memref<4xf32>, memref<4xf32>
    return
  }
  func.func @host_only() {
    return
  }
}

// -----

// Ops made asynchronous already are another pass's schedule: refused.
module attributes {gpu.container_module} {
  // expected-error @+1 {{already has asynchronous GPU ops}}
  func.func @already_async(%a: memref<4xf32>, %b: memref<4xf32>) {
    %t = gpu.wait async
    %t2 = gpu.memcpy async [%t] %a, %b : memref<4xf32>, memref<4xf32>
    gpu.wait [%t2]
    return
  }
}
