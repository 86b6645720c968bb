#include <fmt/format.h>

#include "src/model/safetensors.h"

namespace awq {

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorView::shape_str() const { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace awq
