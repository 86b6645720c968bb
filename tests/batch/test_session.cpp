// src/cli/session: prompt ids as transformers builds them (goldens from
// scripts/gen_batch_goldens.py on the shared real tokenizers) and the rules
// that merge flags, generation_config.json and built-in defaults.
#include <catch2/catch.hpp>

#include "src/cli/session.h"
#include "tests/batch/batch_test_util.h"

using namespace awq;

namespace {

const std::filesystem::path kTokenizers = std::filesystem::path(AWQRUN_SHARED_DIR) / "testdata" / "tokenizers";

// A session with the tokenizer and template of a tokenizer folder; no weights or runner needed.
Session tokenizer_session(const std::filesystem::path& dir) {
  std::optional<ChatTemplate> tmpl;
  if (auto source = find_chat_template(dir, std::nullopt)) tmpl = ChatTemplate::parse(*source);
  return Session{nullptr, Tokenizer::load(dir), nullptr, std::move(tmpl), {}, dir};
}

}  // namespace

TEST_CASE("chat and raw prompts give transformers' token ids", "[batch][session]") {
  const auto goldens = nlohmann::json::parse(test::read_file(
      std::filesystem::path(AWQRUN_SOURCE_DIR) / "tests" / "data" / "batch" / "prompt_goldens.json"));
  REQUIRE(goldens.size() == 3);
  for (const auto& entry : goldens) {
    const std::string name = entry["tokenizer"];
    if (!std::filesystem::exists(kTokenizers / name / "tokenizer.json")) {
      WARN("SKIP: " << (kTokenizers / name).string() << " is missing");
      continue;
    }
    INFO(name);
    const Session s = tokenizer_session(kTokenizers / name);
    CHECK(use_chat_template(s, "auto") == !entry["chat"].empty());
    CHECK_FALSE(use_chat_template(s, "raw"));
    for (const auto& c : entry["chat"]) {
      INFO(c["name"].get<std::string>());
      const std::string text = c.contains("messages")
                                   ? render_chat_messages(s, nlohmann::ordered_json::parse(c["messages"].dump()))
                                   : render_chat_prompt(s, c["prompt"], c["system"]);
      CHECK(encode_prompt(s, text, true) == c["ids"].get<std::vector<int>>());
    }
    for (const auto& r : entry["raw"]) CHECK(encode_prompt(s, r["text"], false) == r["ids"].get<std::vector<int>>());
    if (entry["chat"].empty()) {
      CHECK_THROWS_WITH(use_chat_template(s, "chat"), Catch::Contains("has no chat template"));
      CHECK_THROWS_WITH(render_chat_prompt(s, "hi", ""), Catch::Contains("has no chat template"));
    }
  }
}

TEST_CASE("sampling settings: flag, else generation_config.json, else built-in", "[batch][session]") {
  GenerationDefaults none;
  SamplingFlags flags;
  SamplingParams p = merge_sampling(flags, none);
  CHECK(p.temperature == 0.f);  // transformers: greedy unless do_sample
  CHECK(p.top_k == kBuiltinTopK);
  CHECK(p.top_p == 1.f);
  CHECK(p.min_p == 0.f);
  CHECK(p.repeat_penalty == 1.f);
  CHECK(merge_sampling(flags, none).seed != merge_sampling(flags, none).seed);  // random without --seed

  GenerationDefaults sampled;
  sampled.do_sample = true;
  sampled.temperature = 0.6f;
  sampled.top_p = 0.95f;
  sampled.top_k = 20;
  sampled.repetition_penalty = 1.05f;
  sampled.max_new_tokens = 77;
  p = merge_sampling(flags, sampled);
  CHECK(p.temperature == 0.6f);
  CHECK(p.top_p == 0.95f);
  CHECK(p.top_k == 20);
  CHECK(p.repeat_penalty == 1.05f);
  sampled.temperature.reset();
  CHECK(merge_sampling(flags, sampled).temperature == 1.f);
  GenerationDefaults greedy_with_temperature = sampled;
  greedy_with_temperature.do_sample = false;
  greedy_with_temperature.temperature = 0.7f;
  CHECK(merge_sampling(flags, greedy_with_temperature).temperature == 0.f);

  flags.temperature = 0.3f;
  flags.top_p = 0.5f;
  flags.top_k = 0;
  flags.min_p = 0.1f;
  flags.repeat_penalty = 1.2f;
  flags.seed = 99;
  p = merge_sampling(flags, sampled);
  CHECK(p.temperature == 0.3f);
  CHECK(p.top_p == 0.5f);
  CHECK(p.top_k == 0);
  CHECK(p.min_p == 0.1f);
  CHECK(p.repeat_penalty == 1.2f);
  CHECK(p.seed == 99);
  flags.temperature = 0.f;
  CHECK(merge_sampling(flags, sampled).temperature == 0.f);

  CHECK(merge_max_new_tokens(std::nullopt, none) == kBuiltinMaxNewTokens);
  CHECK(merge_max_new_tokens(std::nullopt, sampled) == 77);
  CHECK(merge_max_new_tokens(5, sampled) == 5);
}

TEST_CASE("generate options stop at the eos ids of config.json and generation_config.json", "[batch][session]") {
  if (!std::filesystem::exists(kTokenizers / "qwen3" / "tokenizer.json")) {
    WARN("SKIP: " << (kTokenizers / "qwen3").string() << " is missing");
    return;
  }
  auto weights = std::make_shared<ModelWeights>();
  weights->config.eos_token_ids = {2, 7};
  Session s = tokenizer_session(kTokenizers / "qwen3");
  s.weights = weights;
  s.defaults.eos_token_ids = {7, 11};
  s.defaults.max_new_tokens = 40;
  SamplingFlags flags;
  flags.seed = 3;
  const GenerateOptions o = make_generate_options(s, flags, std::nullopt, {"END"});
  CHECK(o.eos_ids == std::vector<int>{2, 7, 11});
  CHECK(o.max_new_tokens == 40);
  CHECK(o.stop == std::vector<std::string>{"END"});
  CHECK(o.sampling.seed == 3);
  CHECK(make_generate_options(s, flags, 9, {}).max_new_tokens == 9);
}
