// A persistent pool of worker threads for data-parallel loops. Workers are
// created once (at runner creation) and wait between jobs, first spinning
// briefly (ops in a decode step are microseconds apart) and then sleeping.
// When other processes keep taking the workers' cores (the caller keeps
// waiting on them), jobs run on the calling thread alone for a while.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace awq {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // threads >= 1; the calling thread is one of them
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // Calls fn(task, thread) for every task in [0, tasks), spread over the
  // threads; thread is in [0, size()) and identifies per-thread scratch.
  // Returns when all tasks are done. Not reentrant.
  void run(int tasks, const std::function<void(int task, int thread)>& fn);

 private:
  void worker_loop(int thread);
  void work(int thread);
  // Contention detection after a parallel job (see thread_pool.cpp).
  void note_wait(std::chrono::steady_clock::duration own, std::chrono::steady_clock::duration wait);

  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  int job_tasks_ = 0;
  std::atomic<int> next_task_{0};
  std::atomic<int> busy_workers_{0};
  std::atomic<unsigned> generation_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  int window_jobs_ = 0, stalls_ = 0, serial_jobs_left_ = 0;  // touched by the calling thread only
};

}  // namespace awq
