// @file The avx512bf16 kernel table: the avx512 table with the 3x3 convolutions in bf16 on
// AVX512-BF16 (VDPBF16PS), for CPUs without AMX (native/kernels/bf16_gemm.inc). Built in its own static library
// with only this ISA's flags (binding.gyp), so its instructions cannot leak into code that runs
// on other CPUs.
#include <immintrin.h>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../kernels.h"

namespace ks {
namespace avx512bf16 {
// Internal linkage for everything, as in avx512.cc.
namespace {
#define KS_ISA_NAME "avx512bf16"
#define KS_BF16
#include "../simd/avx512.inc"
#include "../kernels/all.inc"
}  // namespace
}  // namespace avx512bf16

const KernelTable* kernels_avx512bf16() { return &avx512bf16::kTable; }
}  // namespace ks
