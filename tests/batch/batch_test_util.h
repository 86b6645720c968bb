// Helpers shared by the batch tests: temporary files and a model runner
// that needs no weights.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "src/batch/ordered_writer.h"
#include "src/engine/model_runner.h"

namespace awq::test {

// A fresh directory under the system temp folder, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("awqrun-batch-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every line of a JSONL text parsed; a line that is not JSON fails the caller's CHECK via is_discarded().
inline std::vector<nlohmann::json> parse_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    out.push_back(nlohmann::json::parse(line, nullptr, false));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// Result lines collected in memory.
struct MemorySink final : LineSink {
  std::string text;
  void write_line(std::string_view line) override { text += line; }
};

// Without weights: after a prompt, the most likely next token is script[k]
// for the k-th generated token (cycling), or every token is equally likely
// when script is empty (for seeded sampling).
class ScriptRunner final : public ModelRunner {
 public:
  ScriptRunner(int vocab, std::vector<int> script, int max_context = 64) : script_(std::move(script)) {
    config_.vocab_size = vocab;
    max_context_ = max_context;
  }
  const ModelConfig& config() const override { return config_; }
  int max_context() const override { return max_context_; }
  std::string describe() const override { return "script"; }
  void forward(std::span<const int> tokens, int n_past, bool, std::vector<float>& logits) override {
    if (n_past == 0) prompt_len_ = int(tokens.size());
    ++calls;
    logits.assign(size_t(config_.vocab_size), 0.f);
    if (script_.empty()) return;
    const int k = n_past + int(tokens.size()) - prompt_len_;
    logits[size_t(script_[size_t(k) % script_.size()])] = 10.f;
  }
  int calls = 0;

 private:
  ModelConfig config_;
  int max_context_ = 64;
  std::vector<int> script_;
  int prompt_len_ = 0;
};

}  // namespace awq::test
