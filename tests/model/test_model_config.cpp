// config.json parsing: the supported variants, and each rejection's message.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "src/model/model_config.h"
#include "tests/model/model_test_util.h"

using namespace awq;
using namespace awq::test;
using nlohmann::json;

namespace {

json llama2_7b() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "rope_scaling": null, "hidden_act": "silu",
    "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float16"})");
}

ModelConfig parse(const json& j) { return parse_model_config(j.dump(), "config.json"); }

std::string rejection(const json& j) {
  const Failure f = failure_of([&] { parse(j); });
  CHECK(f.thrown);
  CHECK(f.kind == ErrorKind::Input);
  CHECK_THAT(f.message, Catch::StartsWith("config.json"));
  return f.message;
}

}  // namespace

TEST_CASE("Llama-2 7B config", "[config]") {
  const ModelConfig c = parse(llama2_7b());
  CHECK(c.arch == Arch::Llama);
  CHECK(c.architecture == "LlamaForCausalLM");
  CHECK(c.hidden_size == 4096);
  CHECK(c.intermediate_size == 11008);
  CHECK(c.num_layers == 32);
  CHECK(c.num_heads == 32);
  CHECK(c.num_kv_heads == 32);
  CHECK(c.head_dim == 128);
  CHECK(c.vocab_size == 32000);
  CHECK(c.max_position_embeddings == 4096);
  CHECK(c.rms_norm_eps == Approx(1e-5f));
  CHECK(c.rope_theta == 10000.f);
  CHECK(c.rope_scaling.type == RopeScaling::Type::None);
  CHECK_FALSE(c.sliding_window);
  CHECK_FALSE(c.tie_word_embeddings);
  CHECK_FALSE(c.attention_bias);
  CHECK(c.bos_token_ids == std::vector<int>{1});
  CHECK(c.eos_token_ids == std::vector<int>{2});
  CHECK(c.torch_dtype == "float16");
}

TEST_CASE("Llama-3.1 config: GQA, llama3 rope scaling, eos list", "[config]") {
  json j = llama2_7b();
  j["intermediate_size"] = 14336;
  j["num_key_value_heads"] = 8;
  j["vocab_size"] = 128256;
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = json::parse(R"({"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
      "original_max_position_embeddings": 8192, "rope_type": "llama3"})");
  j["bos_token_id"] = 128000;
  j["eos_token_id"] = {128001, 128008, 128009};
  j.erase("num_key_value_heads");
  j["num_key_value_heads"] = 8;
  const ModelConfig c = parse(j);
  CHECK(c.num_kv_heads == 8);
  CHECK(c.rope_theta == 500000.f);
  CHECK(c.rope_scaling.type == RopeScaling::Type::Llama3);
  CHECK(c.rope_scaling.factor == 8.f);
  CHECK(c.rope_scaling.low_freq_factor == 1.f);
  CHECK(c.rope_scaling.high_freq_factor == 4.f);
  CHECK(c.rope_scaling.original_max_position_embeddings == 8192);
  CHECK(c.eos_token_ids == std::vector<int>{128001, 128008, 128009});
}

TEST_CASE("rope scaling types linear, dynamic, yarn (type or rope_type key)", "[config]") {
  json j = llama2_7b();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  CHECK(parse(j).rope_scaling.type == RopeScaling::Type::Linear);
  CHECK(parse(j).rope_scaling.factor == 2.f);
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 4.0}};
  CHECK(parse(j).rope_scaling.type == RopeScaling::Type::Dynamic);
  CHECK(parse(j).rope_scaling.original_max_position_embeddings == 4096);
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32768}};
  CHECK(parse(j).rope_scaling.type == RopeScaling::Type::Yarn);
  CHECK(parse(j).rope_scaling.original_max_position_embeddings == 32768);
  j["rope_scaling"] = {{"rope_type", "default"}};
  CHECK(parse(j).rope_scaling.type == RopeScaling::Type::None);
}

TEST_CASE("transformers 5 rope_parameters", "[config]") {
  json j = llama2_7b();
  j.erase("rope_theta");
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2.0}, {"rope_theta", 1e6}};
  const ModelConfig c = parse(j);
  CHECK(c.rope_theta == 1e6f);
  CHECK(c.rope_scaling.type == RopeScaling::Type::Linear);
}

TEST_CASE("Mistral and Qwen2 specifics", "[config]") {
  json m = llama2_7b();
  m["architectures"] = {"MistralForCausalLM"};
  m["num_key_value_heads"] = 8;
  m["sliding_window"] = 4096;
  CHECK(parse(m).arch == Arch::Mistral);
  CHECK(parse(m).sliding_window == 4096);
  m["sliding_window"] = nullptr;
  CHECK_FALSE(parse(m).sliding_window);

  json q = llama2_7b();
  q["architectures"] = {"Qwen2ForCausalLM"};
  q["hidden_size"] = 896;
  q["num_attention_heads"] = 14;
  q["num_key_value_heads"] = 2;
  q["use_sliding_window"] = false;
  q["sliding_window"] = 32768;
  q["max_window_layers"] = 21;
  q["tie_word_embeddings"] = true;
  q["vocab_size"] = 151936;
  q["eos_token_id"] = 151645;
  const ModelConfig c = parse(q);
  CHECK(c.arch == Arch::Qwen2);
  CHECK(c.attention_bias);
  CHECK(c.head_dim == 64);
  CHECK_FALSE(c.sliding_window);
  CHECK(c.tie_word_embeddings);
}

TEST_CASE("optional keys: head_dim, kv heads default, attention_bias, bos list, model_type", "[config]") {
  json j = llama2_7b();
  j.erase("num_key_value_heads");
  j["head_dim"] = 64;
  j["attention_bias"] = true;
  j["bos_token_id"] = {1, 5};
  j["eos_token_id"] = nullptr;
  const ModelConfig c = parse(j);
  CHECK(c.num_kv_heads == 32);
  CHECK(c.head_dim == 64);
  CHECK(c.attention_bias);
  CHECK(c.bos_token_ids == std::vector<int>{1, 5});
  CHECK(c.eos_token_ids.empty());
  j.erase("architectures");
  CHECK(parse(j).arch == Arch::Llama);
}

TEST_CASE("config rejections name the key and say what is supported", "[config]") {
  auto with = [](const char* key, json v) {
    json j = llama2_7b();
    if (v.is_discarded()) j.erase(key);
    else j[key] = v;
    return j;
  };
  const json drop = json(json::value_t::discarded);
  CHECK_THAT(rejection(with("architectures", {"GPTNeoXForCausalLM"})),
             Catch::Contains("GPTNeoXForCausalLM is not supported (supported: LlamaForCausalLM, MistralForCausalLM, "
                             "Qwen2ForCausalLM)"));
  CHECK_THAT(rejection(with("architectures", "LlamaForCausalLM")), Catch::Contains("architectures must be a list"));
  CHECK_THAT(rejection(with("hidden_size", drop)), Catch::Contains("hidden_size is missing (required)"));
  CHECK_THAT(rejection(with("num_hidden_layers", drop)), Catch::Contains("num_hidden_layers is missing"));
  CHECK_THAT(rejection(with("vocab_size", "32000")), Catch::Contains("vocab_size must be a positive integer, got \"32000\""));
  CHECK_THAT(rejection(with("intermediate_size", -5)), Catch::Contains("intermediate_size must be a positive integer"));
  CHECK_THAT(rejection(with("num_attention_heads", 4096.5)), Catch::Contains("num_attention_heads must be a positive"));
  CHECK_THAT(rejection(with("num_attention_heads", 30)), Catch::Contains("hidden_size 4096 is not divisible by num_attention_heads 30"));
  CHECK_THAT(rejection(with("num_key_value_heads", 5)), Catch::Contains("num_attention_heads 32 is not a multiple of num_key_value_heads 5"));
  CHECK_THAT(rejection(with("head_dim", 33)), Catch::Contains("head_dim 33 must be even"));
  CHECK_THAT(rejection(with("rope_scaling", {{"rope_type", "longrope"}, {"factor", 2.0}})),
             Catch::Contains("rope type \"longrope\" is not supported (supported: linear, dynamic, llama3, yarn"));
  CHECK_THAT(rejection(with("rope_scaling", {{"factor", 2.0}})), Catch::Contains("has no rope_type"));
  CHECK_THAT(rejection(with("rope_scaling", {{"type", "linear"}})), Catch::Contains("rope_scaling.factor is missing"));
  CHECK_THAT(rejection(with("rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}})),
             Catch::Contains("low_freq_factor is missing (required for llama3 scaling)"));
  CHECK_THAT(rejection(with("rope_scaling", "linear")), Catch::Contains("rope_scaling must be an object or null"));
  CHECK_THAT(rejection(with("rope_theta", -1)), Catch::Contains("rope_theta must be positive"));
  CHECK_THAT(rejection(with("hidden_act", "gelu")), Catch::Contains("activation \"gelu\" is not supported"));
  CHECK_THAT(rejection(with("mlp_bias", true)), Catch::Contains("MLP biases are not supported"));
  CHECK_THAT(rejection(with("eos_token_id", "2")), Catch::Contains("eos_token_id must be a token id"));
  CHECK_THAT(rejection(with("eos_token_id", 32000)), Catch::Contains("eos_token_id: 32000 is outside the vocabulary"));
  CHECK_THAT(rejection(with("tie_word_embeddings", "no")), Catch::Contains("tie_word_embeddings must be true or false"));
  json mistral = with("architectures", {"MistralForCausalLM"});
  mistral["sliding_window"] = 0;
  CHECK_THAT(rejection(mistral), Catch::Contains("sliding_window must be a positive integer"));
  json qwen = with("architectures", {"Qwen2ForCausalLM"});
  qwen["use_sliding_window"] = true;
  qwen["max_window_layers"] = 32;
  CHECK(parse(qwen).sliding_window == std::nullopt);  // no layer slides when max_window_layers >= layers
  qwen["max_window_layers"] = 4;
  CHECK_THAT(rejection(qwen), Catch::Contains("sliding window in only some layers"));
  const Failure f = failure_of([] { parse_model_config("{\"a\": ", "config.json"); });
  CHECK_THAT(f.message, Catch::Contains("config.json: invalid JSON"));
  CHECK_THAT(failure_of([] { parse_model_config("[]", "config.json"); }).message, Catch::Contains("not a JSON object"));
}

TEST_CASE("load_model_config merges generation_config eos ids; generation defaults", "[config]") {
  TempDir dir;
  CHECK_THAT(failure_of([&] { load_model_config(dir.path()); }).message, Catch::Contains("no config.json"));
  write_bytes(dir / "config.json", llama2_7b().dump());
  CHECK(load_model_config(dir.path()).eos_token_ids == std::vector<int>{2});
  const GenerationDefaults none = load_generation_defaults(dir.path());
  CHECK_FALSE(none.temperature);
  CHECK_FALSE(none.do_sample);

  write_bytes(dir / "generation_config.json",
              R"({"do_sample": true, "temperature": 0.6, "top_p": 0.9, "top_k": 50, "min_p": 0.05,
                  "repetition_penalty": 1.1, "max_new_tokens": 256, "eos_token_id": [2, 7]})");
  CHECK(load_model_config(dir.path()).eos_token_ids == std::vector<int>{2, 7});
  const GenerationDefaults g = load_generation_defaults(dir.path());
  CHECK(g.do_sample == true);
  CHECK(*g.temperature == Approx(0.6f));
  CHECK(*g.top_p == Approx(0.9f));
  CHECK(*g.top_k == 50);
  CHECK(*g.min_p == Approx(0.05f));
  CHECK(*g.repetition_penalty == Approx(1.1f));
  CHECK(*g.max_new_tokens == 256);
  CHECK(g.eos_token_ids == std::vector<int>{2, 7});

  write_bytes(dir / "generation_config.json", R"({"temperature": "hot"})");
  const Failure f = failure_of([&] { load_generation_defaults(dir.path()); });
  CHECK(f.kind == ErrorKind::Input);
  CHECK_THAT(f.message, Catch::Contains("generation_config.json: temperature must be a number"));
  write_bytes(dir / "generation_config.json", R"({"eos_token_id": 99999})");
  CHECK_THAT(failure_of([&] { load_model_config(dir.path()); }).message, Catch::Contains("outside the vocabulary"));
}
