// The matrix shapes of a model's linear layers, from its config: what the
// fp16 cuBLAS baseline of `awqrun bench` multiplies.
#pragma once
#include <string>
#include <vector>

#include "src/model/model_config.h"

namespace awq {

struct LinearShape {
  std::string name;  // "q_proj", ..., "lm_head"
  int out_features = 0, in_features = 0;
  size_t weights() const { return size_t(out_features) * in_features; }
};

// q, k, v, o, gate, up, down of one decoder layer (each layer has the same).
std::vector<LinearShape> layer_linear_shapes(const ModelConfig& c);

LinearShape lm_head_shape(const ModelConfig& c);

}  // namespace awq
