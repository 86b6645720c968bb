// Round-to-nearest 4-bit AWQ quantization with zero point: AutoAWQ's
// pseudo_quantize_tensor (awq/quantize/quantizer.py) without the activation-
// aware scale search. ../shared/reference/awq-format.md §6.5.
//
// AutoAWQ quantizes a model loaded in fp16 and every tensor op it runs is an
// fp16 op (computed in float, rounded to fp16), so this mirrors those
// roundings step by step: per group of `group_size` inputs of a row,
//   w      = fp16(w)
//   scale  = fp16(fp16(fp16(max - min) clamped to >= fp16(1e-5)) / 15)
//   zero   = clamp(-round(fp16(min / scale)), 0, 15)
//   q      = clamp(round(fp16(w / scale)) + zero, 0, 15)
// with round() = round half to even (torch.round). The result equals what
// AutoAWQ's WQLinear_GEMM.from_linear stores for RTN quantization.
#pragma once
#include "src/model/quant_linear.h"

namespace awq {

// w is row-major [out_features][in_features] (nn.Linear orientation).
// in_features must be a multiple of group_size, and group_size even.
QuantLinear quantize_rtn(const float* w, int out_features, int in_features, int group_size);

}  // namespace awq
