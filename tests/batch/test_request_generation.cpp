// Per-request settings reach generate(): length, stops, sampling and seeds,
// through a scripted runner (no weights) and a real tokenizer.
#include <catch2/catch.hpp>

#include "src/batch/batch_input.h"
#include "src/batch/batch_loop.h"
#include "src/batch/request_generation.h"
#include "tests/batch/batch_test_util.h"

using namespace awq;

namespace {

// A small byte-level BPE tokenizer from the engine's test data (read only).
Tokenizer tiny_tokenizer() {
  return Tokenizer::load(std::filesystem::path(AWQRUN_SOURCE_DIR) / "tests" / "data" / "engine" / "llama_gqa2");
}

// The text of the first n tokens the runner produces for `script`.
std::string scripted_text(const Tokenizer& tok, const std::vector<int>& script, size_t n) {
  std::vector<int> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(script[i % script.size()]);
  return tok.decode(ids, true);
}

GenerateOptions base_options() {
  GenerateOptions o;
  o.max_new_tokens = 12;
  o.sampling.seed = 1000;
  o.sampling.temperature = 0.f;
  o.stop = {"never"};
  o.eos_ids = {2};
  return o;
}

}  // namespace

TEST_CASE("a request's settings replace the command line's; the seed follows the index", "[batch][generation]") {
  const GenerateOptions base = base_options();
  const GenerateOptions same = options_for_request(base, {}, 5);
  CHECK(same.max_new_tokens == 12);
  CHECK(same.stop == std::vector<std::string>{"never"});
  CHECK(same.sampling.seed == 1005);
  CHECK(same.sampling.temperature == 0.f);
  CHECK(same.eos_ids == std::vector<int>{2});

  RequestOverrides o;
  o.max_new_tokens = 3;
  o.temperature = 0.8f;
  o.top_k = 7;
  o.top_p = 0.5f;
  o.min_p = 0.1f;
  o.repeat_penalty = 1.3f;
  o.seed = 42;
  o.stop = std::vector<std::string>{"x", "y"};
  const GenerateOptions changed = options_for_request(base, o, 5);
  CHECK(changed.max_new_tokens == 3);
  CHECK(changed.sampling.temperature == 0.8f);
  CHECK(changed.sampling.top_k == 7);
  CHECK(changed.sampling.top_p == 0.5f);
  CHECK(changed.sampling.min_p == 0.1f);
  CHECK(changed.sampling.repeat_penalty == 1.3f);
  CHECK(changed.sampling.seed == 42);
  CHECK(changed.stop == std::vector<std::string>{"x", "y"});
}

TEST_CASE("per-request overrides change what each request generates", "[batch][generation]") {
  const Tokenizer tok = tiny_tokenizer();
  const std::vector<int> script = tok.encode("hello world. ", false);
  test::ScriptRunner runner(tok.vocab_size(), script);
  const GenerateOptions base = base_options();

  const auto requests = parse_batch_input(
      "{\"id\": \"plain\", \"prompt\": \"Hi\"}\n"
      "{\"id\": \"short\", \"prompt\": \"Hi\", \"max_new_tokens\": 4}\n"
      "{\"id\": \"stopped\", \"prompt\": \"Hi\", \"stop\": \"wor\"}\n"
      "{\"id\": \"too long\", \"prompt\": \"Hi\", \"max_new_tokens\": 100}\n",
      InputFormat::Jsonl);
  std::vector<BatchResult> results;
  for (const auto& r : requests) {
    results.push_back(produce_result(r, [&](const BatchRequest& req) {
      return generate_request(runner, tok, tok.encode(req.prompt, false), options_for_request(base, req.overrides, req.index),
                              nullptr);
    }));
  }
  CHECK(results[0].text == scripted_text(tok, script, 12));
  CHECK(results[0].completion_tokens == 12);
  CHECK(results[0].finish_reason == "length");
  CHECK(results[0].prompt_tokens == int(tok.encode("Hi", false).size()));
  CHECK(results[1].text == scripted_text(tok, script, 4));
  CHECK(results[1].completion_tokens == 4);
  CHECK(results[2].text == "hello ");
  CHECK(results[2].finish_reason == "stop");
  CHECK(results[3].failed());  // 2 + 100 tokens do not fit the runner's 64 positions
  CHECK_THAT(results[3].error, Catch::Contains("exceeds the context of 64"));
  CHECK(results[3].id == "too long");
}

TEST_CASE("sampled requests are reproducible from their seed, different across requests", "[batch][generation]") {
  const Tokenizer tok = tiny_tokenizer();
  test::ScriptRunner flat(tok.vocab_size(), {});  // every token equally likely
  GenerateOptions base = base_options();
  base.sampling.temperature = 1.f;
  base.eos_ids = {};
  const std::vector<int> prompt = tok.encode("Hi", false);
  auto text_of = [&](const RequestOverrides& o, size_t index) {
    return generate_request(flat, tok, prompt, options_for_request(base, o, index), nullptr).text;
  };
  const std::string first = text_of({}, 0);
  CHECK(text_of({}, 0) == first);   // same index, same seed: same text, as after a resume
  CHECK(text_of({}, 1) != first);   // the next request draws from seed + 1
  RequestOverrides seeded;
  seeded.seed = 1000;  // the base seed + 0
  CHECK(text_of(seeded, 9) == first);
  RequestOverrides greedy;
  greedy.temperature = 0.f;
  CHECK(text_of(greedy, 0) == text_of(greedy, 3));
}

TEST_CASE("the poll hook runs while text is produced and can abandon a request", "[batch][generation]") {
  const Tokenizer tok = tiny_tokenizer();
  const std::vector<int> script = tok.encode("abcdefgh", false);
  test::ScriptRunner runner(tok.vocab_size(), script);
  int polls = 0;
  struct Cancelled {};
  const auto prompt = tok.encode("Hi", false);
  const auto r = generate_request(runner, tok, prompt, base_options(), [&] { ++polls; });
  CHECK(polls >= 3);
  CHECK(r.text == scripted_text(tok, script, 12));
  runner.calls = 0;
  CHECK_THROWS_AS(generate_request(runner, tok, prompt, base_options(),
                                   [&] {
                                     if (runner.calls >= 3) throw Cancelled{};
                                   }),
                  Cancelled);
  CHECK(runner.calls == 3);
}
