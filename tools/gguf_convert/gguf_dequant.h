// Dequantization of ggml blocks to float, following ggml-quants.c
// (dequantize_row_*) operation by operation so that results are bit-identical
// to ggml and to gguf-py's quants module. Block layouts:
// ../shared/reference/tokenizer.md §5.3.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tools/gguf_convert/gguf_file.h"

namespace awq {

bool can_dequantize(uint32_t type);
std::string dequantizable_type_names();  // for error messages

// Converts n values (a whole number of blocks) of `type` at `src` to float.
void dequantize(uint32_t type, const uint8_t* src, int64_t n, float* dst);

// The whole tensor as float, in ggml order (row ne[0] fastest). Throws
// Error(Input) naming the tensor when its type is not supported.
std::vector<float> dequantize_tensor(const GgufFile& file, const GgufTensorInfo& t);

}  // namespace awq
