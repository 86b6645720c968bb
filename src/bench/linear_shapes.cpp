#include "src/bench/linear_shapes.h"

namespace awq {

std::vector<LinearShape> layer_linear_shapes(const ModelConfig& c) {
  const int q_width = c.num_heads * c.head_dim, kv_width = c.num_kv_heads * c.head_dim;
  return {{"q_proj", q_width, c.hidden_size},
          {"k_proj", kv_width, c.hidden_size},
          {"v_proj", kv_width, c.hidden_size},
          {"o_proj", c.hidden_size, q_width},
          {"gate_proj", c.intermediate_size, c.hidden_size},
          {"up_proj", c.intermediate_size, c.hidden_size},
          {"down_proj", c.hidden_size, c.intermediate_size}};
}

LinearShape lm_head_shape(const ModelConfig& c) { return {"lm_head", c.vocab_size, c.hidden_size}; }

}  // namespace awq
