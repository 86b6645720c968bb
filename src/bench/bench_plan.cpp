#include "src/bench/bench_plan.h"

#include <algorithm>
#include <charconv>

#include "src/common/error.h"

namespace awq {
namespace {

int parse_one_length(const std::string& item, const std::string& whole) {
  int value = 0;
  const char* end = item.data() + item.size();
  const auto [ptr, ec] = std::from_chars(item.data(), end, value);
  if (item.empty() || ec != std::errc() || ptr != end || value < 1 || value > kMaxBenchLength)
    usage_error("--lengths {}: '{}' is not a length (a whole number from 1 to {})", whole, item, kMaxBenchLength);
  return value;
}

}  // namespace

std::vector<int> parse_lengths(const std::string& text) {
  std::vector<int> lengths;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const int value = parse_one_length(item, text);
    if (std::find(lengths.begin(), lengths.end(), value) != lengths.end())
      usage_error("--lengths {}: {} is listed twice", text, value);
    lengths.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return lengths;
}

int bench_context(std::span<const int> lengths, int max_position_embeddings, int ctx_flag) {
  if (ctx_flag > 0) return ctx_flag;
  int needed = 0;
  for (int l : lengths) needed = std::max(needed, positions_needed(l));
  return max_position_embeddings > 0 ? std::min(needed, max_position_embeddings) : needed;
}

}  // namespace awq
