// The CPU thread pool: every task of every job runs exactly once, and when
// the workers keep the caller waiting (their cores taken by other processes)
// jobs move to the calling thread for a while, then back.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "src/engine/thread_pool.h"

using namespace awq;

TEST_CASE("thread pool runs every task once", "[engine][pool]") {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int tasks : {1, 2, 7, 100}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(tasks));
      for (int job = 0; job < 50; ++job)
        pool.run(tasks, [&](int task, int thread) {
          CHECK(thread >= 0);
          CHECK(thread < threads);
          hits[size_t(task)].fetch_add(1);
        });
      for (auto& h : hits) CHECK(h.load() == 50);
    }
  }
}

TEST_CASE("thread pool falls back to the calling thread while workers stall, then returns", "[engine][pool]") {
  ThreadPool pool(2);
  // A worker's task takes 2 ms (as if its core were taken); the caller's are instant.
  auto stalling = [](int, int thread) {
    if (thread != 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  };
  // The probe: the caller's tasks take 0.2 ms, so that a pool still in
  // parallel mode surely hands some to its (spinning) worker.
  std::atomic<int> on_workers{0};
  auto count = [&](int, int thread) {
    on_workers += thread != 0;
    if (thread == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  };
  // On a loaded machine a worker may miss some jobs (no stall then): probe
  // after each window of jobs until one runs serially.
  bool serial = false;
  for (int window = 0; window < 40 && !serial; ++window) {
    for (int job = 0; job < 64; ++job) pool.run(8, stalling);
    on_workers = 0;
    pool.run(8, count);
    serial = on_workers.load() == 0;
  }
  CHECK(serial);
  // Some thousand jobs later the pool tries its workers again.
  int job = 0;
  for (; job < 20000 && on_workers.load() == 0; ++job) pool.run(8, [&](int, int thread) { on_workers += thread != 0; });
  for (int probe = 0; probe < 20 && on_workers.load() == 0; ++probe) pool.run(8, count);  // a sleeping worker wakes slowly
  CHECK(on_workers.load() > 0);
}
