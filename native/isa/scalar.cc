// @file The scalar kernel table. Built in its own static library with only this ISA's flags
// (binding.gyp), so its instructions cannot leak into code that runs on other CPUs.

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "../kernels.h"

namespace ks {
namespace scalar {
// Internal linkage for everything: no symbol (not even a template instance) can be shared
// with, and so be linked from, another ISA's library.
namespace {
#define KS_ISA_NAME "scalar"
#include "../simd/scalar.inc"
#include "../kernels/all.inc"
}  // namespace
}  // namespace scalar

const KernelTable* kernels_scalar() { return &scalar::kTable; }
}  // namespace ks
