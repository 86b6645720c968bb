// ggml tensor element types as GGUF files number them, with their block
// geometry (values per block, bytes per block). Sizes: ggml-common.h; see
// ../shared/reference/tokenizer.md §5.1 and §5.3. Q8_1 (9) is left out: it is
// an activation format that never appears in files, and its size differs
// between ggml (36) and gguf-py (40).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace awq {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

struct GgmlTypeInfo {
  const char* name;
  int block_elems;
  int block_bytes;
};

// Geometry of a known type id, or nullopt for ids this build does not know.
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t type_id);
// "Q4_1", or "type 123" for an unknown id.
std::string ggml_type_name(uint32_t type_id);

}  // namespace awq
