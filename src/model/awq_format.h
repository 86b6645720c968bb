// AWQ on-disk layouts <-> QuantLinear. Exact layouts: ../shared/reference/awq-format.md §2.
//
// GEMM ("gemm", TheBloke/AutoAWQ default):
//   qweight int32 [IC, OC/8]: nibble j of word [i][c] holds column 8c + kAwqOrder[j]
//   qzeros  int32 [IC/G, OC/8], same packing; zeros stored raw (no +1)
//   scales  fp16  [IC/G, OC]
// GEMV ("gemv"):
//   qweight int32 [OC, IC/8]: nibble j of word [o][c] holds input 8c + j
//   qzeros  int32 [OC, zeros_width(IC, G)]: nibble j of word w = zero of group 8w + j
//   scales  fp16  [OC, zeros_width * 8] (padding columns are 0)
#pragma once
#include <array>
#include <optional>
#include <string>

#include "src/model/quant_linear.h"
#include "src/model/safetensors.h"
#include "src/model/safetensors_writer.h"

namespace awq {

inline constexpr std::array<int, 8> kAwqOrder{0, 2, 4, 6, 1, 3, 5, 7};        // nibble -> column
inline constexpr std::array<int, 8> kAwqReverseOrder{0, 4, 1, 5, 2, 6, 3, 7};  // column -> nibble

enum class AwqLayout { Gemm, Gemv };

// Word count of a GEMV qzeros row, as AutoAWQ computes it (G must be 32, 64 or >= 128).
int gemv_zeros_width(int in_features, int group_size);

struct PackedLinear {
  TensorData qweight, qzeros, scales;
  std::optional<TensorData> bias;
};

// Validates dtypes and shapes against (in, out, group_size) and unpacks.
// Throws Error(Input) naming `prefix` (e.g. "model.layers.0.self_attn.q_proj").
QuantLinear unpack_linear(AwqLayout layout, const std::string& prefix, const TensorView& qweight,
                          const TensorView& qzeros, const TensorView& scales, const TensorView* bias,
                          int in_features, int out_features, int group_size);

PackedLinear pack_linear(AwqLayout layout, const QuantLinear& lin);

}  // namespace awq
