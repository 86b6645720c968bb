// GGUF tensor names -> Hugging Face Llama names, and the Q/K row order.
//
// llama.cpp's converter permutes the rows of q_proj and k_proj of arch
// "llama" models so that ggml's adjacent-pair RoPE matches HF's rotate_half
// (tokenizer.md §5.4). Undoing it, per head h of head_dim hd:
//   hf_row[h*hd + s*hd/2 + i] = gguf_row[h*hd + 2*i + s],  s in {0,1}, i < hd/2
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace awq {

struct HfTensorName {
  std::string name;        // e.g. "model.layers.3.self_attn.q_proj.weight"
  bool is_linear = false;  // a projection inside a decoder block (AWQ-quantized)
  bool is_query = false;
  bool is_key = false;
};

// nullopt for tensors the HF model has no use for (e.g. rope_freqs).
std::optional<HfTensorName> hf_tensor_name(const std::string& gguf_name);

// Reorders the rows of a [n_heads*head_dim][cols] matrix in place from
// llama.cpp's order back to HF's.
void unpermute_qk_rows(std::vector<float>& w, int n_heads, int head_dim, int cols);

}  // namespace awq
