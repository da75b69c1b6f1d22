// @file The amx kernel table: the avx512 table with the 3x3 convolutions in bf16 on
// Intel AMX tiles (TDPBF16PS) (native/kernels/bf16_gemm.inc). Built in its own static library
// with only this ISA's flags (binding.gyp), so its instructions cannot leak into code that runs
// on other CPUs.
#include <immintrin.h>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../kernels.h"

namespace ks {
namespace amx {
// Internal linkage for everything, as in avx512.cc.
namespace {
#define KS_ISA_NAME "amx"
#define KS_BF16
#define KS_BF16_AMX
#include "../simd/avx512.inc"
#include "../kernels/all.inc"
}  // namespace
}  // namespace amx

const KernelTable* kernels_amx() { return &amx::kTable; }
}  // namespace ks
