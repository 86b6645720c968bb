// One linear layer (or a fused stack: QKV, gate+up) resident on the GPU:
// AWQ int4 in the mma-tile layout (awq_pack.h) or the ExLlama-v2-style one
// (exllama_pack.h), or in the activation type for modules_to_not_convert.
#pragma once
#include <span>

#include "cuda/act_type.h"
#include "cuda/awq_matmul.h"
#include "cuda/exllama_matmul.h"
#include "cuda/device_buffer.h"
#include "src/model/weights.h"

namespace awq::cuda {

enum class WeightLayout { Mma, Exllama };

struct DeviceLinear {
  int in_features = 0, out_features = 0;
  bool quantized = false;
  WeightLayout layout = WeightLayout::Mma;  // of a quantized linear
  int interleave = 0;  // gate/up rows interleaved in blocks of this many (cuda/row_stack.h), 0: stacked in order
  DeviceBuffer<uint32_t> qweight, scale_zero, qzeros;  // scale_zero: mma; qzeros: exllama
  DeviceBuffer<uint16_t> scales;                       // exllama
  DeviceBuffer<uint16_t> dense;  // activation type [out][in] when !quantized
  DeviceBuffer<uint16_t> bias;   // activation type [out] or empty
  MmaWeightsView view;           // quantized, mma layout
  ExllamaWeightsView xview;      // quantized, exllama layout
};

// Device bytes the stacked parts will take (for the fit check).
size_t device_linear_bytes(std::span<const Linear* const> parts, WeightLayout layout = WeightLayout::Mma);

// Stacks the parts' output rows and uploads them for activations of type
// act (the exllama layout is fp16 only). If any part is kept in floating
// point the whole stack is uploaded dense in that type (dequantizing the
// rest). swiglu_pair (gate, up): quantized parts are interleaved in the block
// of the layout's SwiGLU epilogue when the rows allow it (d.interleave says).
DeviceLinear upload_linear(std::span<const Linear* const> parts, Act act, WeightLayout layout = WeightLayout::Mma,
                           bool swiglu_pair = false);

// A floating-point matrix (F16, BF16 or F32) as the bits of type act.
std::vector<uint16_t> dense_to_act(const DenseMatrix& m, Act act);

}  // namespace awq::cuda
