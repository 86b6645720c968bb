// What every generating command (run, chat, batch) sets up from the model
// flags: weights, tokenizer, a runner for the chosen device, the chat
// template, and generation_config.json's defaults; plus the rules that turn
// flags and defaults into generation options.
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "src/chat/chat_template.h"
#include "src/cli/options.h"
#include "src/engine/generator.h"
#include "src/engine/model_runner.h"
#include "src/model/model_config.h"
#include "src/model/weights.h"
#include "src/tokenizer/tokenizer.h"

namespace awq {

inline constexpr int kBuiltinMaxNewTokens = 256;
inline constexpr int kBuiltinTopK = 50;  // transformers' GenerationConfig default

struct Session {
  std::shared_ptr<const ModelWeights> weights;
  Tokenizer tokenizer;
  std::unique_ptr<ModelRunner> runner;
  std::optional<ChatTemplate> chat_template;  // none when the model has no template
  GenerationDefaults defaults;                // generation_config.json
  std::filesystem::path dir;
};

// Resolves -m (or the default model) and loads everything. --device auto and
// cpu run on the CPU backend; cuda and cuda:N need a build with CUDA
// (Error(Device) otherwise). chat_template_file: --chat-template, or empty.
Session open_session(const ModelFlags& flags, const std::string& chat_template_file);
// open_session in two steps, for a command that needs the tokenizer before
// it sizes the runner (batch): everything but the runner, then the runner.
Session load_session(const ModelFlags& flags, const std::string& chat_template_file);
void start_runner(Session& s, const ModelFlags& flags);

// Whether the runner is the CUDA backend (always false in a build without CUDA).
bool runs_on_gpu(const ModelRunner& runner);

// Bytes of one cached K or V value: fp16 on the GPU; the CPU keeps fp32 in
// its default float32 mode and the 16-bit dtype otherwise.
size_t kv_element_bytes(bool on_gpu, const std::string& dtype);

// --chat / --raw / auto: whether prompts go through the chat template.
// "chat" without a template is Error(Input).
bool use_chat_template(const Session& s, const std::string& chat_mode);

// The chat template applied to [system (when non-empty), user] with the
// generation prompt, as transformers' apply_chat_template(..., add_generation_prompt=True).
std::string render_chat_prompt(const Session& s, const std::string& user_text, const std::string& system);
// Same for a whole conversation ({"role", "content"} objects). Error(Input) when the model has no template.
std::string render_chat_messages(const Session& s, const nlohmann::ordered_json& messages);

// Prompt ids: a rendered template is encoded without BOS/EOS (the template
// writes them), raw text with them, as transformers does.
std::vector<int> encode_prompt(const Session& s, const std::string& text, bool templated);

// Each setting: the flag, else generation_config.json, else the built-in
// default. Greedy unless --temp > 0 is given or generation_config.json says
// do_sample (then its temperature, else 1); top-k defaults to 50 and top-p to
// 1 as in transformers. No --seed: a random seed, logged at -v.
SamplingParams merge_sampling(const SamplingFlags& flags, const GenerationDefaults& defaults);
int merge_max_new_tokens(const std::optional<int>& flag, const GenerationDefaults& defaults);

// Sampling, length, stop strings and eos ids (config.json + generation_config.json).
GenerateOptions make_generate_options(const Session& s, const SamplingFlags& sampling,
                                      const std::optional<int>& max_new_tokens, const std::vector<std::string>& stop);

}  // namespace awq
