// @file Runtime CPU dispatch: the kernel tables best-first, scalar last (oneDNN style), each
// offered only when CPUID (and the OS, via XGETBV, which __builtin_cpu_supports checks) says
// this CPU can run it.
#include <cstring>

#include "kernels.h"

namespace ks {

namespace {

struct Candidate {
  const char* isa;
  const KernelTable* (*table)();
  bool (*supported)();
};

#if defined(KS_X86_ISAS)
bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif
bool always() { return true; }

const Candidate kCandidates[] = {
#if defined(KS_X86_ISAS)
    {"avx512", kernels_avx512, has_avx512},
    {"avx2", kernels_avx2, has_avx2},
#endif
    {"scalar", kernels_scalar, always},
};

}  // namespace

const KernelTable* select_kernels(const char* isa) {
  for (const Candidate& c : kCandidates) {
    if (std::strcmp(c.isa, isa) == 0) return c.supported() ? c.table() : nullptr;
  }
  return nullptr;
}

const KernelTable* best_kernels() {
  for (const Candidate& c : kCandidates) {
    if (c.supported()) return c.table();
  }
  return nullptr;  // unreachable: scalar is always supported
}

}  // namespace ks
