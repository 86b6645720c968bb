// All weights of a model, as the engines consume them. Quantized linears are
// unpacked into QuantLinear (int4, never fully dequantized); floating-point
// tensors stay views into the memory-mapped checkpoint.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/model/model_config.h"
#include "src/model/quant_config.h"
#include "src/model/quant_linear.h"
#include "src/model/safetensors.h"

namespace awq {

// A floating-point matrix [rows, cols] (F16, BF16 or F32), row-major, not owned.
struct DenseMatrix {
  int rows = 0, cols = 0;
  DType dtype = DType::F16;
  const uint8_t* data = nullptr;
  float at(int r, int c) const;
  void row_to_float(int r, float* out) const;
};

// A linear layer: quantized, or kept in floating point (modules_to_not_convert).
struct Linear {
  std::string name;  // "model.layers.3.mlp.down_proj"
  int in_features = 0, out_features = 0;
  std::optional<QuantLinear> quant;
  DenseMatrix dense;        // [out, in] when not quantized
  std::vector<float> bias;  // [out] or empty (bias of a dense linear; QuantLinear keeps its own)
  bool is_quantized() const { return quant.has_value(); }
};

struct LayerWeights {
  std::vector<float> input_norm, post_attention_norm;  // [hidden]
  Linear q, k, v, o, gate, up, down;
};

struct ModelWeights {
  ModelConfig config;
  QuantConfig quant;
  DenseMatrix embed;    // [vocab, hidden]
  DenseMatrix lm_head;  // [vocab, hidden]; aliases embed when tied
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;
  std::shared_ptr<const Checkpoint> checkpoint;  // keeps the mapping alive
};

// Loads config, quantization config and every tensor, checking that each one
// the architecture needs is present with the shape the config implies.
ModelWeights load_model(const std::filesystem::path& model_dir);

}  // namespace awq
