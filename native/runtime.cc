// @file The Runtime behind native/runtime.h: a persistent thread pool and a scratch arena.
//
// Workers are started once per Context and sleep on a condition variable between calls. A call
// hands out task indices from an atomic counter; the calling thread works too, then waits for
// the workers that joined. Calls are synchronous, so JavaScript never sees a half-done kernel.
#include "runtime_impl.h"

#include <cstdio>
#include <cstdlib>

namespace ks {

Runtime::Runtime(int threads, int conv_algorithm)
    : threads_(threads < 1 ? 1 : threads), conv_algorithm_(conv_algorithm) {
  scratch_.resize(kSharedSlots + kThreadSlots * threads_);
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

Runtime::~Runtime() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  for (Scratch& s : scratch_) std::free(s.data);
}

void Runtime::run_tasks(int thread) {
  for (;;) {
    const int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= tasks_) break;
    fn_(ctx_, task, thread);
  }
}

void Runtime::worker_loop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    run_tasks(thread);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_workers_ == 0) done_.notify_one();
    }
  }
}

void Runtime::parallel_for(int64_t tasks, TaskFn fn, void* ctx) {
  if (tasks <= 0) return;
  if (tasks == 1 || workers_.empty()) {
    for (int64_t t = 0; t < tasks; ++t) fn(ctx, t, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = fn;
    ctx_ = ctx;
    tasks_ = tasks;
    next_task_.store(0, std::memory_order_relaxed);
    busy_workers_ = static_cast<int>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  run_tasks(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return busy_workers_ == 0; });
}

void* Runtime::scratch(int slot, size_t bytes) {
  Scratch& s = scratch_.at(slot);
  if (s.bytes < bytes) {
    std::free(s.data);
    const size_t rounded = (bytes + 63) / 64 * 64;
    s.data = std::aligned_alloc(64, rounded);
    if (s.data == nullptr) {
      // Kernels run on pool threads, where an exception could not reach JavaScript.
      std::fprintf(stderr, "kilosecond: out of memory allocating %zu bytes of kernel scratch\n", rounded);
      std::abort();
    }
    s.bytes = rounded;
  }
  return s.data;
}

size_t Runtime::scratch_bytes() const {
  size_t total = 0;
  for (const Scratch& s : scratch_) total += s.bytes;
  return total;
}

int rt_threads(const Runtime* rt) { return rt->threads(); }
int rt_conv_algorithm(const Runtime* rt) { return rt->conv_algorithm(); }
void rt_parallel_for(Runtime* rt, int64_t tasks, TaskFn fn, void* ctx) { rt->parallel_for(tasks, fn, ctx); }
void* rt_scratch(Runtime* rt, int slot, size_t bytes) { return rt->scratch(slot, bytes); }

}  // namespace ks
