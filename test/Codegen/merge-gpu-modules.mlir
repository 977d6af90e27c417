// RUN: lmc-opt %s --lm-merge-gpu-modules --split-input-file | FileCheck %s

// Outlined kernels, one module each, land in one module named
// @lmc_kernels; each kernel takes its former module's name, a global two
// kernels use is kept once, and the launches follow.
// CHECK-LABEL: module attributes {gpu.container_module}
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
    gpu.func @forward_kernel(%x: memref<4xf32>) kernel {
      %t = memref.get_global @table : memref<2xf32>
      gpu.return
    }
  }
  func.func @forward(%x: memref<2xf32>, %y: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @forward_kernel::@forward_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    gpu.launch_func @forward_kernel_0::@forward_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%y : memref<4xf32>)
    return
  }
}

// -----

// A model's layers launch the same kernel once each: kept once, the later
// launches take the first one's name. Kernels that differ only in the names
// of their own globals (the wgmma tile's mbarriers) are the same; the
// dropped one's global goes with it. A kernel that differs in a constant
// stays.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @lmc_kernels {
// CHECK-DAG: memref.global "private" @__mbarrier_0 : memref<4xi64, 3>
// CHECK-DAG: gpu.func @tile(
// CHECK-DAG: gpu.func @tile_2(
// CHECK-NOT: __mbarrier_1
// CHECK-NOT: gpu.func @tile_1(
// CHECK: func.func @layers
// CHECK: gpu.launch_func @lmc_kernels::@tile blocks
// CHECK: gpu.launch_func @lmc_kernels::@tile blocks
// CHECK: gpu.launch_func @lmc_kernels::@tile_2 blocks
module attributes {gpu.container_module} {
  gpu.module @tile {
    memref.global "private" @__mbarrier_0 : memref<4xi64, 3>
    gpu.func @tile(%x: memref<2xf32>) kernel {
      %b = memref.get_global @__mbarrier_0 : memref<4xi64, 3>
      %c0 = arith.constant 0 : index
      %one = arith.constant 1.0 : f32
      memref.store %one, %x[%c0] : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @tile_1 {
    memref.global "private" @__mbarrier_1 : memref<4xi64, 3>
    gpu.func @tile_1(%x: memref<2xf32>) kernel {
      %b = memref.get_global @__mbarrier_1 : memref<4xi64, 3>
      %c0 = arith.constant 0 : index
      %one = arith.constant 1.0 : f32
      memref.store %one, %x[%c0] : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @tile_2 {
    memref.global "private" @__mbarrier_2 : memref<4xi64, 3>
    gpu.func @tile_2(%x: memref<2xf32>) kernel {
      %b = memref.get_global @__mbarrier_2 : memref<4xi64, 3>
      %c0 = arith.constant 0 : index
      %two = arith.constant 2.0 : f32
      memref.store %two, %x[%c0] : memref<2xf32>
      gpu.return
    }
  }
  func.func @layers(%x: memref<2xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @tile::@tile blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    gpu.launch_func @tile_1::@tile_1 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    gpu.launch_func @tile_2::@tile_2 blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<2xf32>)
    return
  }
}
