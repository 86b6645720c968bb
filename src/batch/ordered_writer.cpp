#include "src/batch/ordered_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "src/common/error.h"

namespace awq {

FdLineSink::FdLineSink(const std::filesystem::path& path, bool sync) : sync_(sync), name_(path.string()) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(ErrorKind::Input, fmt::format("cannot open {} for writing: {}", name_, std::strerror(errno)));
  owned_ = true;
}

FdLineSink::FdLineSink() = default;

FdLineSink::~FdLineSink() {
  if (owned_) ::close(fd_);
}

void FdLineSink::write_line(std::string_view line) {
  while (!line.empty()) {
    const ssize_t n = ::write(fd_, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;  // Ctrl-C arrived before any byte went out
    if (n < 0) runtime_error("cannot write {}: {}", name_, std::strerror(errno));
    line.remove_prefix(size_t(n));
  }
  if (sync_ && ::fdatasync(fd_) != 0 && errno != EINVAL)
    runtime_error("cannot sync {}: {}", name_, std::strerror(errno));
}

OrderedResultWriter::OrderedResultWriter(LineSink& sink, std::vector<size_t> order)
    : sink_(sink), order_(std::move(order)) {
  if (!std::is_sorted(order_.begin(), order_.end())) throw std::logic_error("result order must be ascending");
}

void OrderedResultWriter::submit(size_t index, std::string line) {
  std::lock_guard lock(mutex_);
  const auto pos = std::lower_bound(order_.begin() + long(next_), order_.end(), index);
  if (pos == order_.end() || *pos != index || waiting_.count(index))
    throw std::logic_error(fmt::format("result {} submitted twice or not expected", index));
  waiting_.emplace(index, std::move(line));
  while (next_ < order_.size()) {
    const auto it = waiting_.find(order_[next_]);
    if (it == waiting_.end()) break;
    sink_.write_line(it->second);
    waiting_.erase(it);
    ++next_;
  }
}

size_t OrderedResultWriter::written() const {
  std::lock_guard lock(mutex_);
  return next_;
}

}  // namespace awq
