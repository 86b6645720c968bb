#include "src/bench/stats.h"

#include <algorithm>

#include "src/common/error.h"

namespace awq {

double median(std::vector<double> values) {
  if (values.empty()) runtime_error("median of no samples");
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
}

}  // namespace awq
