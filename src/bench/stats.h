// Small statistics for timings: benchmarks report medians, which ignore the
// odd slow repetition (a page fault, a clock change) that a mean would absorb.
#pragma once
#include <vector>

namespace awq {

// Median of the values (mean of the middle two for an even count).
// Throws Error(Runtime) for an empty list: a benchmark always has samples.
double median(std::vector<double> values);

}  // namespace awq
