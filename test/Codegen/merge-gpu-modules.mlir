// RUN: lmc-opt %s --lm-merge-gpu-modules | FileCheck %s

// Outlined kernels, one module each, land in one module named
// @lmc_kernels; each kernel takes its former module's name, a global two
// kernels use is kept once, and the launches follow.
// CHECK: gpu.module @lmc_kernels {
// CHECK-DAG: memref.global "private" constant @table
// CHECK-DAG: gpu.func @forward_kernel(
// CHECK-DAG: gpu.func @forward_kernel_0(
// CHECK: }
// CHECK-NOT: gpu.module
// CHECK: func.func @forward
// CHECK: gpu.launch_func @lmc_kernels::@forward_kernel blocks
// CHECK: gpu.launch_func @lmc_kernels::@forward_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @forward_kernel {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @forward_kernel(%x: memref<2xf32>) kernel {
      %t = memref.get_global @table : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @forward_kernel_0 {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @forward_kernel(%x: memref<2xf32>) kernel {
      %t = memref.get_global @table : memref<2xf32>
      gpu.return
    }
  }
  func.func @forward(%x: memref<2xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @forward_kernel::@forward_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    gpu.launch_func @forward_kernel_0::@forward_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    return
  }
}
