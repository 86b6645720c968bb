#include "src/batch/request_queue.h"

namespace awq {

RequestQueue::RequestQueue(std::vector<BatchRequest> requests, const ResumeState& resume) {
  for (BatchRequest& r : requests) {
    if (resume.finished_ids.count(id_key(r.id))) {
      ++skipped_;
      continue;
    }
    order_.push_back(r.index);
    pending_.push_back(std::move(r));
  }
}

std::optional<BatchRequest> RequestQueue::pop() {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) return std::nullopt;
  BatchRequest r = std::move(pending_.front());
  pending_.pop_front();
  return r;
}

std::vector<BatchRequest> RequestQueue::pending() const {
  std::lock_guard lock(mutex_);
  return std::vector<BatchRequest>(pending_.begin(), pending_.end());
}

size_t RequestQueue::remaining() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

}  // namespace awq
