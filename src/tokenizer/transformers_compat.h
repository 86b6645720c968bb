// What transformers 5.x (AutoTokenizer) does on top of tokenizer.json, so the
// C++ tokenizer produces the ids a Python user of the checkpoint gets:
//  * tokenizer classes with their own __init__ (LlamaTokenizer, Qwen2Tokenizer,
//    GPT2Tokenizer) keep only vocab + merges from tokenizer.json and rebuild
//    normalizer / pre-tokenizer / decoder, taking added tokens from
//    tokenizer_config.json's added_tokens_decoder;
//  * add_bos_token / add_eos_token in tokenizer_config.json replace the
//    post-processor (for every class);
//  * special tokens named in the config (bos_token, ...) are added when absent.
// Verified against transformers 5.24 (scripts/gen_tokenizer_goldens.py).
#pragma once
#include <nlohmann/json.hpp>

#include <string_view>

namespace awq {

// Rewrites `tokenizer_json` in place. `config` is tokenizer_config.json (an
// empty object when absent).
void apply_transformers_overrides(nlohmann::json& tokenizer_json, const nlohmann::json& config,
                                  std::string_view context);

}  // namespace awq
