// @file The kernel table: one per instruction set, picked at runtime (native/dispatch.cc).
//
// Semantics of every kernel are those of the Backend interface (src/core/backend.ts). Shapes
// are validated by the addon before a kernel runs; kernels trust them.
#pragma once
#include <cstdint>

#include "runtime.h"

namespace ks {

struct ConvShape {
  int64_t n, h, w, cin, cout;
};

// Any square kernel size k and zero padding, stride 1: output oh x ow (the caller's, checked
// against the buffers; the kernels read only in-bounds input pixels).
struct GeneralConvShape {
  int64_t n, h, w, cin, cout, k, pad, oh, ow;
};

struct BatchNormShape {
  int64_t rows, channels;
  float eps;
  bool relu;
};

struct SgdHyper {
  float lr, momentum, weight_decay;
  bool nesterov;
};

// Every kernel with its C++ signature, once: the table's fields, each ISA's table entries
// (native/kernels/all.inc) and the addon's generic binding (native/addon.cc) are generated from
// this list. Buffers are float pointers (const: read; mutable: written or updated), scalars
// int64_t (sizes), float, bool, or a shape struct that stands for several of them. The
// declarations in src/core/kernels.ts list the same buffers and scalars in the same relative
// order; the addon refuses to load when the two disagree, naming the kernel. Names are the
// declarations' in snake_case.
#define KS_KERNELS(X)                                                                              \
  X(conv3x3, (Runtime*, const float* x, const float* w, float* y, const ConvShape&))               \
  X(conv3x3_backward_data, (Runtime*, const float* gy, const float* w, float* gx, const ConvShape&)) \
  X(conv3x3_backward_filter,                                                                       \
    (Runtime*, const float* x, const float* gy, float* gw, const ConvShape&))                     \
  X(conv, (Runtime*, const float* x, const float* w, float* y, const GeneralConvShape&))           \
  X(conv_backward_data, (Runtime*, const float* gy, const float* w, float* gx,                     \
                         const GeneralConvShape&))                                                 \
  X(conv_backward_filter, (Runtime*, const float* x, const float* gy, float* gw,                   \
                           const GeneralConvShape&))                                               \
  X(batch_norm_train,                                                                              \
    (Runtime*, const float* x, const float* gamma, const float* beta, float* y, float* mean,       \
     float* invstd, float* running_mean, float* running_var, float momentum,                       \
     const BatchNormShape&))                                                                       \
  X(batch_norm_eval,                                                                               \
    (Runtime*, const float* x, const float* gamma, const float* beta, const float* running_mean,   \
     const float* running_var, float* y, const BatchNormShape&))                                   \
  X(batch_norm_backward,                                                                           \
    (Runtime*, const float* x, const float* y, const float* gy, const float* gamma,                \
     const float* mean, const float* invstd, float* gx, float* ggamma, float* gbeta,               \
     const BatchNormShape&))                                                                       \
  X(max_pool2x2, (Runtime*, const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c)) \
  X(max_pool2x2_backward,                                                                          \
    (Runtime*, const float* x, const float* gy, float* gx, int64_t n, int64_t h, int64_t w,        \
     int64_t c))                                                                                   \
  X(global_max_pool, (Runtime*, const float* x, float* y, int64_t n, int64_t spatial, int64_t c))  \
  X(global_max_pool_backward,                                                                      \
    (Runtime*, const float* x, const float* gy, float* gx, int64_t n, int64_t spatial, int64_t c)) \
  X(matmul, (Runtime*, const float* a, const float* b, float* out, int64_t m, int64_t k,           \
             int64_t n, bool trans_a, bool trans_b))                                               \
  X(add, (Runtime*, const float* a, const float* b, float* out, int64_t length))                   \
  X(scale, (Runtime*, const float* a, float alpha, float* out, int64_t length))                    \
  X(add_bias, (Runtime*, const float* x, const float* bias, float* y, int64_t rows, int64_t channels)) \
  X(bias_backward, (Runtime*, const float* gy, float* gbias, int64_t rows, int64_t channels))     \
  X(gelu, (Runtime*, const float* x, float* y, int64_t length))                                   \
  X(gelu_backward, (Runtime*, const float* x, const float* gy, float* gx, int64_t length))        \
  X(cross_entropy, (Runtime*, const float* logits, const float* labels, float* probs, float* loss, \
                    int64_t n, int64_t k, float smoothing))                                        \
  X(cross_entropy_backward, (Runtime*, const float* probs, const float* labels,                    \
                             const float* gloss, float* glogits, int64_t n, int64_t k,             \
                             float smoothing))                                                     \
  X(accumulate_metrics,                                                                            \
    (Runtime*, const float* logits, const float* labels, float* stats, int64_t n, int64_t k))      \
  X(lerp, (Runtime*, float* a, const float* b, float t, int64_t length))                          \
  X(sgd_step, (Runtime*, float* param, const float* grad, float* velocity, int64_t length,         \
               const SgdHyper&))

struct KernelTable {
  const char* isa = nullptr;
  /** "fp32", or "bf16" where the convolutions take bf16 operands (docs/precision.md). */
  const char* precision = nullptr;
#define KS_TABLE_FIELD(name, params) void(*name) params = nullptr;
  KS_KERNELS(KS_TABLE_FIELD)
#undef KS_TABLE_FIELD
};

// One table per ISA library; each returns nullptr when it was not compiled for this target.
const KernelTable* kernels_scalar();
const KernelTable* kernels_avx2();
const KernelTable* kernels_avx512();
const KernelTable* kernels_avx512bf16();
const KernelTable* kernels_amx();

/**
 * The table for `isa` ("scalar" | "avx2" | "avx512" | the bf16 tables "avx512bf16" | "amx"), or
 * nullptr if this CPU (or, for AMX, the operating system) cannot run it.
 */
const KernelTable* select_kernels(const char* isa);
/** Whether this CPU has AMX but the operating system refused the process its tile state. */
bool amx_refused();
/** The fastest float32 table this CPU runs (best-first, scalar last). */
const KernelTable* best_kernels();

}  // namespace ks
