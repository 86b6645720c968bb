// GGUF (arch llama, byte-level BPE tokenizer) -> Hugging Face AWQ checkpoint
// folder: config.json (+ quantization_config), model.safetensors in AWQ GEMM
// layout, tokenizer.json, tokenizer_config.json, generation_config.json.
#pragma once
#include <filesystem>

namespace awq {

struct ConvertOptions {
  int group_size = 64;
  // Debug/verification: write every weight as plain fp16 (no AWQ), so that the
  // result can be compared with transformers' own GGUF loader.
  bool quantize = true;
};

void convert_gguf(const std::filesystem::path& gguf_path, const std::filesystem::path& out_dir,
                  const ConvertOptions& options);

}  // namespace awq
