// The requests a batch run still has to produce, in input order. The CPU
// loop pops one at a time; a GPU scheduler pops as many as it has room for
// and hands each result to the OrderedResultWriter when it finishes.
#pragma once
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "src/batch/batch_request.h"
#include "src/batch/resume.h"

namespace awq {

class RequestQueue {
 public:
  // Keeps the requests whose id has no result in `resume` yet.
  RequestQueue(std::vector<BatchRequest> requests, const ResumeState& resume);

  std::optional<BatchRequest> pop();  // thread-safe; nullopt when empty
  std::vector<BatchRequest> pending() const;  // a copy of what pop() will return, in order
  size_t remaining() const;
  size_t skipped() const { return skipped_; }    // already finished in the output file
  const std::vector<size_t>& order() const { return order_; }  // indexes to produce, ascending

 private:
  std::deque<BatchRequest> pending_;
  std::vector<size_t> order_;
  size_t skipped_ = 0;
  mutable std::mutex mutex_;
};

}  // namespace awq
