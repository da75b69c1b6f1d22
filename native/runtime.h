// @file What the kernels may ask of the host: threads and reusable scratch memory.
//
// The ISA libraries (native/isa/*.cc) are compiled with AVX2 / AVX-512 flags. Anything they
// share with the baseline code must be a plain function defined in baseline code (here), never
// an inline template both sides instantiate: the linker keeps one copy of such a weak symbol,
// and if it kept the AVX-512 one the scalar path would die with SIGILL on an older CPU.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ks {

struct Runtime;  // opaque: thread pool + scratch arena, owned by one addon Context

using TaskFn = void (*)(void* ctx, int64_t task, int thread);

/** Number of threads that run tasks (the caller included). */
int rt_threads(const Runtime* rt);
/**
 * Runs fn(ctx, task, thread) for task in [0, tasks) on the pool; returns when all are done.
 * Not re-entrant: tasks must not call it, and one JavaScript thread drives a Runtime.
 */
void rt_parallel_for(Runtime* rt, int64_t tasks, TaskFn fn, void* ctx);
/**
 * A 64-byte aligned buffer of at least `bytes`, kept between calls (grown, never shrunk), so
 * steady-state training allocates nothing. Contents are undefined. Distinct slots never alias;
 * per-thread buffers use slot = kThreadSlots * thread + k. Growing a slot invalidates its old
 * pointer, so ask for each slot once per kernel call.
 */
void* rt_scratch(Runtime* rt, int slot, size_t bytes);

/** Convolution algorithm: chosen per shape, or forced (KILOSECOND_CONV, for tests and benchmarks). */
constexpr int kConvAuto = 0, kConvDirect = 1, kConvWinograd2 = 2, kConvWinograd4 = 3;
int rt_conv_algorithm(const Runtime* rt);

constexpr int kSharedSlots = 8;  // slots [0, 8) are for the calling thread before a parallel_for
constexpr int kThreadSlots = 4;  // slot kSharedSlots + kThreadSlots * thread + k, k < 4

}  // namespace ks
