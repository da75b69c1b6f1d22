// @file The avx2 kernel table. Built in its own static library with only this ISA's flags
// (binding.gyp), so its instructions cannot leak into code that runs on other CPUs.
#include <immintrin.h>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../kernels.h"

namespace ks {
namespace avx2 {
// Internal linkage for everything: no symbol (not even a template instance) can be shared
// with, and so be linked from, another ISA's library.
namespace {
#define KS_ISA_NAME "avx2"
#include "../simd/avx2.inc"
#include "../kernels/all.inc"
}  // namespace
}  // namespace avx2

const KernelTable* kernels_avx2() { return &avx2::kTable; }
}  // namespace ks
