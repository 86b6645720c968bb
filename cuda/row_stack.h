// The order in which the weight packers stack the output rows of fused
// linears: part after part (QKV), or - for gate+up with a SwiGLU epilogue -
// gate and up interleaved in blocks of `block` rows (gate rows
// [block*j, block*j + block), then the same up rows), so that one column
// tile of a kernel holds the gate and up values of the same features.
#pragma once
#include <span>
#include <utility>
#include <vector>

#include "src/common/error.h"
#include "src/model/quant_linear.h"

namespace awq::cuda {

using StackedRow = std::pair<const QuantLinear*, int>;  // part, row within it

inline std::vector<StackedRow> stack_rows(std::span<const QuantLinear* const> parts, int block) {
  std::vector<StackedRow> rows;
  if (block == 0) {
    for (const QuantLinear* p : parts)
      for (int r = 0; r < p->out_features; ++r) rows.emplace_back(p, r);
    return rows;
  }
  if (parts.size() != 2 || parts[0]->out_features != parts[1]->out_features || parts[0]->out_features % block != 0)
    runtime_error("stack_rows: interleaving needs two parts of equal rows, a multiple of {}", block);
  for (int j = 0; j < parts[0]->out_features; j += block)
    for (const QuantLinear* p : parts)
      for (int r = j; r < j + block; ++r) rows.emplace_back(p, r);
  return rows;
}

}  // namespace awq::cuda
