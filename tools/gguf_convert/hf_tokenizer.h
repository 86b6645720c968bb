// tokenizer.json and tokenizer_config.json from GGUF tokenizer metadata
// (tokenizer.md §5.2), for byte-level BPE ("gpt2") vocabularies.
//
// The GGUF keeps the vocabulary, merges and token types but not the
// pre-tokenizer; tokenizer.ggml.pre names it. "smollm" is SmolLM/SmolLM2's
// tokenizer: Digits(individual) then GPT-2 ByteLevel, no normalizer.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "tools/gguf_convert/gguf_file.h"

namespace awq {

// Full tokenizer.json text. Throws Error(Input) for tokenizer models or
// pre-tokenizers not supported yet (SentencePiece "llama" among them).
std::string make_tokenizer_json(const GgufFile& file);

nlohmann::ordered_json make_tokenizer_config_json(const GgufFile& file, int model_max_length);

}  // namespace awq
