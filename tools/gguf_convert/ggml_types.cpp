#include "tools/gguf_convert/ggml_types.h"

#include <array>
#include <fmt/format.h>

namespace awq {
namespace {

struct Entry {
  GgmlType type;
  GgmlTypeInfo info;
};

constexpr std::array kTypes{
    Entry{GgmlType::F32, {"F32", 1, 4}},          Entry{GgmlType::F16, {"F16", 1, 2}},
    Entry{GgmlType::Q4_0, {"Q4_0", 32, 18}},      Entry{GgmlType::Q4_1, {"Q4_1", 32, 20}},
    Entry{GgmlType::Q5_0, {"Q5_0", 32, 22}},      Entry{GgmlType::Q5_1, {"Q5_1", 32, 24}},
    Entry{GgmlType::Q8_0, {"Q8_0", 32, 34}},
    Entry{GgmlType::Q2_K, {"Q2_K", 256, 84}},     Entry{GgmlType::Q3_K, {"Q3_K", 256, 110}},
    Entry{GgmlType::Q4_K, {"Q4_K", 256, 144}},    Entry{GgmlType::Q5_K, {"Q5_K", 256, 176}},
    Entry{GgmlType::Q6_K, {"Q6_K", 256, 210}},    Entry{GgmlType::Q8_K, {"Q8_K", 256, 292}},
    Entry{GgmlType::IQ2_XXS, {"IQ2_XXS", 256, 66}}, Entry{GgmlType::IQ2_XS, {"IQ2_XS", 256, 74}},
    Entry{GgmlType::IQ3_XXS, {"IQ3_XXS", 256, 98}}, Entry{GgmlType::IQ1_S, {"IQ1_S", 256, 50}},
    Entry{GgmlType::IQ4_NL, {"IQ4_NL", 32, 18}},  Entry{GgmlType::IQ3_S, {"IQ3_S", 256, 110}},
    Entry{GgmlType::IQ2_S, {"IQ2_S", 256, 82}},   Entry{GgmlType::IQ4_XS, {"IQ4_XS", 256, 136}},
    Entry{GgmlType::I8, {"I8", 1, 1}},            Entry{GgmlType::I16, {"I16", 1, 2}},
    Entry{GgmlType::I32, {"I32", 1, 4}},          Entry{GgmlType::I64, {"I64", 1, 8}},
    Entry{GgmlType::F64, {"F64", 1, 8}},          Entry{GgmlType::IQ1_M, {"IQ1_M", 256, 56}},
    Entry{GgmlType::BF16, {"BF16", 1, 2}},        Entry{GgmlType::TQ1_0, {"TQ1_0", 256, 54}},
    Entry{GgmlType::TQ2_0, {"TQ2_0", 256, 66}},   Entry{GgmlType::MXFP4, {"MXFP4", 32, 17}},
};

}  // namespace

std::optional<GgmlTypeInfo> ggml_type_info(uint32_t type_id) {
  for (const Entry& e : kTypes)
    if (static_cast<uint32_t>(e.type) == type_id) return e.info;
  return std::nullopt;
}

std::string ggml_type_name(uint32_t type_id) {
  const auto info = ggml_type_info(type_id);
  return info ? std::string(info->name) : fmt::format("type {}", type_id);
}

}  // namespace awq
