// @file The Runtime class (baseline code only; the ISA libraries see the C-style API in
// runtime.h).
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime.h"

namespace ks {

struct Runtime {
  Runtime(int threads, int conv_algorithm);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  int threads() const { return threads_; }
  int conv_algorithm() const { return conv_algorithm_; }
  void parallel_for(int64_t tasks, TaskFn fn, void* ctx);
  void* scratch(int slot, size_t bytes);
  /** Bytes held by scratch buffers (packed weights, indirection, partial sums). */
  size_t scratch_bytes() const;

 private:
  struct Scratch {
    void* data = nullptr;
    size_t bytes = 0;
  };

  void worker_loop(int thread);
  void run_tasks(int thread);

  const int threads_;
  const int conv_algorithm_;
  std::vector<std::thread> workers_;
  std::vector<Scratch> scratch_;

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  int busy_workers_ = 0;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
};

}  // namespace ks
