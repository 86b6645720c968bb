// Element types of checkpoint tensors (safetensors names) and their sizes.
#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace awq {

enum class DType { F16, BF16, F32, F64, I8, U8, I16, I32, I64, BOOL };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);                      // "F16", ...
std::optional<DType> dtype_from_name(std::string_view s);  // safetensors spelling

}  // namespace awq
