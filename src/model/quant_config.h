// quantization_config in config.json, or the legacy quant_config.json.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "src/model/awq_format.h"

namespace awq {

struct QuantConfig {
  int bits = 4;
  int group_size = 128;  // -1: one group per row
  bool zero_point = true;
  AwqLayout layout = AwqLayout::Gemm;
  std::vector<std::string> modules_to_not_convert;  // substrings of linear names inside a block

  int resolved_group_size(int in_features) const { return group_size == -1 ? in_features : group_size; }
  // True when `linear_name` (e.g. "mlp.gate_proj") stays in floating point.
  bool keeps_float(const std::string& linear_name) const;
};

// Throws Error(Input) when the checkpoint is not a supported AWQ checkpoint
// (no quantization config, quant_method != awq, bits != 4, version gemv_fast
// or marlin, zero_point false, ...): the message says what was found and
// what is supported.
QuantConfig load_quant_config(const std::filesystem::path& model_dir);
QuantConfig parse_quant_config(const std::string& config_json_text, const std::string& source_name);

}  // namespace awq
