// Writing batch results in input order, whatever order they finish in, so
// that a scheduler running many sequences at once can replace the one-by-one
// CPU loop without touching the output side.
//
// Crash safety: each result line goes out in one write() (looping only if the
// kernel takes part of it) and is synced before the next, so a killed process
// leaves complete lines plus at most one partial last line, which resume
// (resume.h) cuts away.
#pragma once
#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace awq {

class LineSink {
 public:
  virtual ~LineSink() = default;
  // line is one complete line including its '\n'.
  virtual void write_line(std::string_view line) = 0;
};

// Appends lines to a file descriptor. Throws Error(Runtime) naming the file
// when a write fails (disk full, ...).
class FdLineSink final : public LineSink {
 public:
  // Opens path for appending (creating it); sync: fdatasync after every line.
  FdLineSink(const std::filesystem::path& path, bool sync);
  // Standard output (not closed, not synced).
  FdLineSink();
  ~FdLineSink() override;
  FdLineSink(const FdLineSink&) = delete;
  FdLineSink& operator=(const FdLineSink&) = delete;
  void write_line(std::string_view line) override;

 private:
  int fd_ = 1;
  bool owned_ = false, sync_ = false;
  std::string name_ = "standard output";
};

class OrderedResultWriter {
 public:
  // order: the request indexes whose results will be submitted, ascending.
  OrderedResultWriter(LineSink& sink, std::vector<size_t> order);

  // Stores the result line of request `index`, then writes every stored line
  // whose predecessors in `order` are all written. Thread-safe. Submitting an
  // index not in `order`, or twice, is a logic error (std::logic_error).
  void submit(size_t index, std::string line);

  size_t written() const;
  size_t total() const { return order_.size(); }

 private:
  LineSink& sink_;
  std::vector<size_t> order_;
  size_t next_ = 0;                       // position in order_ of the next line to write
  std::map<size_t, std::string> waiting_;  // index -> line, finished but not yet writable
  mutable std::mutex mutex_;
};

}  // namespace awq
