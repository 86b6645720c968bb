// Rotary position embedding as Hugging Face Llama/Mistral/Qwen2 apply it:
// rotate_half pairing (i, i + d/2), angle = position * inv_freq[i] in fp32.
#pragma once
#include <vector>

#include "src/model/model_config.h"

namespace awq {

// inv_freq[i], i < head_dim / 2, with default, linear or llama3 scaling
// (transformers' _compute_*_rope_parameters). Throws Error(Input) for
// dynamic and yarn ("not implemented").
std::vector<float> rope_inv_freq(const ModelConfig& c);

// cos/sin of every position < positions: table[p][i], i < head_dim / 2.
struct RopeTable {
  int half = 0;
  std::vector<float> cos, sin;
  RopeTable(const std::vector<float>& inv_freq, int positions);
};

// Rotates one head vector x[head_dim] in place at position p.
void apply_rope(const RopeTable& t, int p, float* x);

}  // namespace awq
