#include "src/engine/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AWQ_CPU_RELAX() _mm_pause()
#else
#define AWQ_CPU_RELAX() std::this_thread::yield()
#endif

namespace awq {

namespace {
// Roughly 0.1-0.3 ms of spinning before a worker sleeps: longer than
// the gap between two ops of one forward pass, far shorter than a user pause.
constexpr int kSpinIterations = 4000;

// Contention: when another process holds one of the cores, a worker that
// took a task may sit descheduled for a scheduler time slice (milliseconds)
// while the calling thread waits, and a decode step runs ~150 jobs: 2
// threads then decode slower than 1 (SmolLM2, 2-core VM with one core busy:
// 50 vs 80-88 tok/s). A job "stalls" when the caller waits for the workers
// longer than its own share took, plus kStallSlack (a sleeping worker's
// wake-up after a pause costs ~50 us once). When a quarter of the last
// kWindow parallel jobs stalled, the next kSerialJobs jobs run on the
// calling thread alone (the results do not depend on the split: tasks own
// their rows), then the pool tries again.
constexpr auto kStallSlack = std::chrono::microseconds(100);
constexpr int kWindow = 64, kStallLimit = kWindow / 4, kSerialJobs = 4096;
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::work(int thread) {
  for (;;) {
    const int task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= job_tasks_) break;
    (*job_)(task, thread);
  }
}

void ThreadPool::run(int tasks, const std::function<void(int, int)>& fn) {
  if (tasks <= 0) return;
  if (serial_jobs_left_ > 0) --serial_jobs_left_;
  if (workers_.empty() || tasks == 1 || serial_jobs_left_ > 0) {
    for (int t = 0; t < tasks; ++t) fn(t, 0);
    return;
  }
  job_ = &fn;
  job_tasks_ = tasks;
  next_task_.store(0, std::memory_order_relaxed);
  busy_workers_.store(int(workers_.size()), std::memory_order_relaxed);
  {
    // Publishing under the mutex pairs with the sleeping branch of worker_loop.
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  const auto t0 = std::chrono::steady_clock::now();
  work(0);
  const auto t1 = std::chrono::steady_clock::now();
  // A worker that lost its core (more runnable threads than cores) finishes
  // sooner if this thread gives its core away instead of spinning on.
  for (int spins = 0; busy_workers_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kSpinIterations) AWQ_CPU_RELAX();
    else std::this_thread::yield();
  }
  job_ = nullptr;
  note_wait(t1 - t0, std::chrono::steady_clock::now() - t1);
}

void ThreadPool::note_wait(std::chrono::steady_clock::duration own, std::chrono::steady_clock::duration wait) {
  stalls_ += wait > own + kStallSlack;
  if (++window_jobs_ < kWindow) return;
  if (stalls_ >= kStallLimit) serial_jobs_left_ = kSerialJobs;
  window_jobs_ = 0;
  stalls_ = 0;
}

void ThreadPool::worker_loop(int thread) {
  unsigned seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpinIterations) {
      AWQ_CPU_RELAX();
      ++spins;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load()) return;
    work(thread);
    busy_workers_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace awq
