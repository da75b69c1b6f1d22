// @file Runtime CPU dispatch: the kernel tables best-first, scalar last (oneDNN style), each
// offered only when CPUID (and the OS, via XGETBV, which __builtin_cpu_supports checks) says
// this CPU can run it.
#include <cstring>
#if defined(KS_X86_ISAS) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

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
bool has_avx512bf16() {
  __builtin_cpu_init();
  return has_avx512() && __builtin_cpu_supports("avx512bf16");
}
/**
 * AMX needs CPUID's amx-tile and amx-bf16 and, on Linux, the process's permission to use the
 * 8 KB tile state, asked for once (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); a
 * kernel that refuses it (before 5.16, or a sandbox) leaves the table unoffered, and
 * `amx_refused` says so.
 */
bool amx_permission() {
#if defined(__linux__)
  static const bool granted = [] {
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
#else
  return false;
#endif
}
bool amx_in_cpu() {
  __builtin_cpu_init();
  // GCC 12's __builtin_cpu_supports knows amx-tile and amx-bf16.
  return has_avx512bf16() && __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16");
}
bool has_amx() { return amx_in_cpu() && amx_permission(); }
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif
bool always() { return true; }

const Candidate kCandidates[] = {
#if defined(KS_X86_ISAS)
    {"amx", kernels_amx, has_amx},
    {"avx512bf16", kernels_avx512bf16, has_avx512bf16},
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
    if (std::strcmp(c.table()->precision, "fp32") == 0 && c.supported()) return c.table();
  }
  return nullptr;  // unreachable: scalar is always supported
}

bool amx_refused() {
#if defined(KS_X86_ISAS)
  return amx_in_cpu() && !amx_permission();
#else
  return false;
#endif
}

}  // namespace ks
