#include "tools/gguf_convert/tensor_map.h"

#include <array>
#include <cstring>
#include <regex>

namespace awq {
namespace {

struct BlockLeaf {
  const char* gguf;
  const char* hf;
  bool linear;
};

constexpr std::array kBlockLeaves{
    BlockLeaf{"attn_q", "self_attn.q_proj", true},      BlockLeaf{"attn_k", "self_attn.k_proj", true},
    BlockLeaf{"attn_v", "self_attn.v_proj", true},      BlockLeaf{"attn_output", "self_attn.o_proj", true},
    BlockLeaf{"ffn_gate", "mlp.gate_proj", true},       BlockLeaf{"ffn_up", "mlp.up_proj", true},
    BlockLeaf{"ffn_down", "mlp.down_proj", true},       BlockLeaf{"attn_norm", "input_layernorm", false},
    BlockLeaf{"ffn_norm", "post_attention_layernorm", false},
};

}  // namespace

std::optional<HfTensorName> hf_tensor_name(const std::string& gguf_name) {
  if (gguf_name == "token_embd.weight") return HfTensorName{"model.embed_tokens.weight"};
  if (gguf_name == "output_norm.weight") return HfTensorName{"model.norm.weight"};
  if (gguf_name == "output.weight") return HfTensorName{"lm_head.weight"};
  static const std::regex block(R"(blk\.(\d+)\.([a-z_]+)\.(weight|bias))");
  std::smatch m;
  if (!std::regex_match(gguf_name, m, block)) return std::nullopt;
  for (const BlockLeaf& leaf : kBlockLeaves) {
    if (m[2] != leaf.gguf) continue;
    HfTensorName out;
    out.name = "model.layers." + m[1].str() + "." + leaf.hf + "." + m[3].str();
    out.is_linear = leaf.linear && m[3] == "weight";
    out.is_query = std::strcmp(leaf.gguf, "attn_q") == 0;
    out.is_key = std::strcmp(leaf.gguf, "attn_k") == 0;
    return out;
  }
  return std::nullopt;
}

void unpermute_qk_rows(std::vector<float>& w, int n_heads, int head_dim, int cols) {
  const std::vector<float> src = w;
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h)
    for (int s = 0; s < 2; ++s)
      for (int i = 0; i < half; ++i) {
        const size_t to = size_t(h * head_dim + s * half + i) * cols;
        const size_t from = size_t(h * head_dim + 2 * i + s) * cols;
        std::memcpy(w.data() + to, src.data() + from, size_t(cols) * sizeof(float));
      }
}

}  // namespace awq
