// One linear layer (or a fused stack: QKV, gate+up) resident on the GPU:
// AWQ int4 in the mma-tile layout, or fp16 for modules_to_not_convert.
#pragma once
#include <span>

#include "cuda/awq_matmul.h"
#include "cuda/device_buffer.h"
#include "src/model/weights.h"

namespace awq::cuda {

struct DeviceLinear {
  int in_features = 0, out_features = 0;
  bool quantized = false;
  DeviceBuffer<uint32_t> qweight, scale_zero;
  DeviceBuffer<uint16_t> dense;  // fp16 [out][in] when !quantized
  DeviceBuffer<uint16_t> bias;   // fp16 [out] or empty
  MmaWeightsView view;           // quantized only
};

// Device bytes the stacked parts will take (for the fit check).
size_t device_linear_bytes(std::span<const Linear* const> parts);

// Stacks the parts' output rows and uploads them. If any part is kept in
// floating point the whole stack is uploaded as fp16 (dequantizing the rest).
DeviceLinear upload_linear(std::span<const Linear* const> parts);

// fp16 copy of a floating-point matrix (F16, BF16 or F32).
std::vector<uint16_t> dense_to_f16(const DenseMatrix& m);

}  // namespace awq::cuda
