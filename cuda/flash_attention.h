// Tensor-core prefill attention (cuda/flash_attention.cu), used by
// attention() in cuda/attention.cu for the shapes it supports.
#pragma once
#include "cuda/launch.h"

namespace awq::cuda {

// More than one query and head_dim 64 or 128; either activation type (a.act).
bool flash_prefill_supported(const AttentionArgs& a);
void flash_prefill_attention(const AttentionArgs& a, void* stream);

}  // namespace awq::cuda
