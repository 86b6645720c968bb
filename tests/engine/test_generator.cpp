// generate() and perplexity() on a tiny model against transformers (greedy
// tokens, HF strided perplexity from scripts/gen_engine_goldens.py).
#include <catch2/catch.hpp>

#include "src/engine/cpu_runner.h"
#include "src/engine/generator.h"
#include "src/engine/perplexity.h"
#include "tests/engine/engine_test_util.h"

using namespace awq;

namespace {

struct Fixture {
  std::filesystem::path dir = test::engine_data_dir() / "llama_gqa2";
  nlohmann::json golden = test::read_json(dir / "golden.json");
  std::shared_ptr<const ModelWeights> weights = std::make_shared<const ModelWeights>(load_model(dir));
  std::unique_ptr<ModelRunner> runner = make_cpu_runner(weights, {.threads = 2, .max_context = 64});
  Tokenizer tok = Tokenizer::load(dir);
};

}  // namespace

TEST_CASE("greedy generation gives transformers' tokens and streams the decoded text", "[engine][generate]") {
  Fixture f;
  const auto prompt = f.golden["greedy"]["prompt"].get<std::vector<int>>();
  const auto expected = f.golden["greedy"]["tokens"].get<std::vector<int>>();
  GenerateOptions opt;
  opt.max_new_tokens = int(expected.size());
  opt.eos_ids = {2};
  std::string streamed;
  const auto r = generate(*f.runner, f.tok, prompt, opt, [&](std::string_view s) { streamed += s; });
  CHECK(r.tokens == expected);
  CHECK(r.finish_reason == "length");
  CHECK(r.prompt_tokens == int(prompt.size()));
  CHECK(r.completion_tokens == int(expected.size()));
  CHECK(r.text == f.tok.decode(expected, true));
  CHECK(streamed == r.text);
  CHECK(r.timings.decode_tokens_per_s > 0);

  // An eos id ends generation with "stop"; the eos is counted, not printed.
  opt.eos_ids = {expected[3]};
  const auto e = generate(*f.runner, f.tok, prompt, opt, nullptr);
  CHECK(e.finish_reason == "stop");
  CHECK(e.tokens == std::vector<int>(expected.begin(), expected.begin() + 4));
  CHECK(e.text == f.tok.decode(std::vector<int>(expected.begin(), expected.begin() + 3), true));
}

TEST_CASE("a stop string ends generation and is never streamed", "[engine][generate]") {
  Fixture f;
  const auto prompt = f.golden["greedy"]["prompt"].get<std::vector<int>>();
  const auto expected = f.golden["greedy"]["tokens"].get<std::vector<int>>();
  const std::string full = f.tok.decode(expected, true);
  REQUIRE(full.size() > 8);
  GenerateOptions opt;
  opt.max_new_tokens = int(expected.size());
  opt.stop = {full.substr(full.size() / 2, 3)};
  std::string streamed;
  const auto r = generate(*f.runner, f.tok, prompt, opt, [&](std::string_view s) { streamed += s; });
  CHECK(r.finish_reason == "stop");
  CHECK(r.text == full.substr(0, full.find(opt.stop[0])));
  CHECK(streamed == r.text);
}

TEST_CASE("generation refuses a prompt that does not fit the context", "[engine][generate]") {
  Fixture f;
  std::vector<int> prompt(60, 5);
  GenerateOptions opt;
  opt.max_new_tokens = 10;
  CHECK_THROWS_WITH(generate(*f.runner, f.tok, prompt, opt, nullptr),
                    "prompt is 60 tokens, + 10 new tokens exceeds the context of 64");
  CHECK_THROWS_WITH(generate(*f.runner, f.tok, std::vector<int>{}, opt, nullptr), Catch::Contains("empty"));
}

TEST_CASE("seeded sampling is reproducible through generate", "[engine][generate]") {
  Fixture f;
  GenerateOptions opt;
  opt.max_new_tokens = 12;
  opt.sampling = {.temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .min_p = 0.02f, .repeat_penalty = 1.1f, .seed = 7};
  const std::vector<int> prompt{5, 6, 7};
  const auto a = generate(*f.runner, f.tok, prompt, opt, nullptr);
  const auto b = generate(*f.runner, f.tok, prompt, opt, nullptr);
  CHECK(a.tokens == b.tokens);
}

TEST_CASE("perplexity matches transformers' strided evaluation", "[engine][perplexity]") {
  Fixture f;
  const auto& g = f.golden["perplexity"];
  const auto ids = g["ids"].get<std::vector<int>>();
  const auto r = perplexity(*f.runner, ids, {.ctx = g["ctx"].get<int>(), .stride = g["stride"].get<int>()});
  CHECK(r.tokens == g["tokens"].get<int>());
  CHECK(r.ppl == Approx(g["ppl"].get<double>()).epsilon(1e-4));
  // One token per pass (decode path) scores the same positions alike.
  const auto d = perplexity(*f.runner, ids, {.ctx = g["ctx"].get<int>(), .stride = g["stride"].get<int>(),
                                             .one_token_passes = true});
  CHECK(d.tokens == r.tokens);
  CHECK(d.ppl == Approx(g["ppl"].get<double>()).epsilon(1e-4));
  CHECK_THROWS_WITH(perplexity(*f.runner, ids, {.ctx = 100, .stride = 8}), Catch::Contains("context 100"));
}
