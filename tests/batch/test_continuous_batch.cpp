// Continuous batching on the CPU engine: many requests decoding together in
// a runner with several KV slots give the same results as the one-by-one loop
// (greedy and seeded sampling, stops, lengths, failures), in input order.
#include <catch2/catch.hpp>

#include "src/batch/batch_input.h"
#include "src/batch/continuous_batch.h"
#include "src/batch/request_generation.h"
#include "src/engine/cpu_runner.h"
#include "src/model/weights.h"
#include "tests/batch/batch_test_util.h"

using namespace awq;

namespace {

const std::filesystem::path kTiny = std::filesystem::path(AWQRUN_SOURCE_DIR) / "tests" / "data" / "engine" / "llama_gqa2";

// Requests that finish at different steps, so that slots free up and refill
// while others run: lengths, an early stop string, sampling with and without
// a seed of their own, a malformed line, a prompt too long for the context,
// and a zero-token request.
std::string request_file() {
  std::string jsonl;
  for (int i = 0; i < 9; ++i)
    jsonl += "{\"id\": \"g" + std::to_string(i) + "\", \"prompt\": \"request " + std::to_string(i * 37) +
             " about apples\", \"max_new_tokens\": " + std::to_string(3 + 5 * (i % 4)) + "}\n";
  jsonl += "{\"id\": \"sampled\", \"prompt\": \"tell me\", \"temperature\": 0.9, \"top_k\": 20, \"max_new_tokens\": 14}\n";
  jsonl += "{\"id\": \"seeded\", \"prompt\": \"tell me\", \"temperature\": 1.2, \"seed\": 7, \"max_new_tokens\": 9}\n";
  jsonl += "{\"id\": \"penalty\", \"prompt\": \"again again\", \"repeat_penalty\": 1.5, \"max_new_tokens\": 11}\n";
  jsonl += "{\"id\": \"bad\", \"prompt\": 5}\n";
  jsonl += "{\"id\": \"long\", \"prompt\": \"" + std::string(300, 'x') + "\", \"max_new_tokens\": 4}\n";
  jsonl += "{\"id\": \"zero\", \"prompt\": \"nothing\", \"max_new_tokens\": 0}\n";
  // g3's greedy text has " ti" after a few tokens.
  jsonl += "{\"id\": \"stop\", \"prompt\": \"request 111 about apples\", \"stop\": [\" ti\"], \"max_new_tokens\": 18}\n";
  return jsonl;
}

struct BatchRun {
  std::vector<nlohmann::json> lines;
  BatchProgress progress;
};

BatchRun run_batch(int slots, bool continuous) {
  auto weights = std::make_shared<const ModelWeights>(load_model(kTiny));
  CpuRunnerOptions ro;
  ro.threads = 1;
  ro.max_context = 64;
  ro.sequences = slots;
  auto runner = make_cpu_runner(weights, ro);
  const Tokenizer tok = Tokenizer::load(kTiny);
  RequestQueue queue(parse_batch_input(request_file(), InputFormat::Jsonl), ResumeState{});
  test::MemorySink sink;
  OrderedResultWriter writer(sink, queue.order());
  GenerateOptions base;
  base.max_new_tokens = 8;
  base.sampling.seed = 99;
  base.eos_ids = weights->config.eos_token_ids;
  const RequestPreparer prepare = [&](const BatchRequest& r) {
    return PreparedRequest{tok.encode(r.prompt, false), options_for_request(base, r.overrides, r.index)};
  };
  BatchRun out;
  if (continuous) {
    int steps = 0;
    out.progress = run_continuous(queue, writer, *runner, tok, prepare, [&] { ++steps; }, nullptr);
    CHECK(steps > 0);
  } else {
    out.progress = run_one_by_one(queue, writer, [&](const BatchRequest& r) {
      const PreparedRequest p = prepare(r);
      return generate_request(*runner, tok, p.prompt_ids, p.options, nullptr);
    }, nullptr);
  }
  out.lines = test::parse_lines(sink.text);
  return out;
}

}  // namespace

TEST_CASE("continuous batching gives the one-by-one results, in input order", "[batch][continuous]") {
  const BatchRun one = run_batch(1, false);
  for (const int slots : {1, 3, 16}) {
    INFO(slots << " slots");
    const BatchRun many = run_batch(slots, true);
    REQUIRE(many.lines.size() == one.lines.size());
    CHECK(many.progress.done == one.progress.done);
    CHECK(many.progress.failed == 2);  // bad and long
    CHECK(many.progress.completion_tokens == one.progress.completion_tokens);
    for (size_t i = 0; i < one.lines.size(); ++i) {
      const nlohmann::json& a = one.lines[i];
      const nlohmann::json& b = many.lines[i];
      INFO(a.dump());
      CHECK(b["id"] == a["id"]);
      CHECK(b.value("error", "") == a.value("error", ""));
      CHECK(b.value("text", "") == a.value("text", ""));
      CHECK(b.value("completion_tokens", -1) == a.value("completion_tokens", -1));
      CHECK(b.value("finish_reason", "") == a.value("finish_reason", ""));
    }
  }
  // The scenario exercises what it claims: different lengths, a stop and a sampled text.
  CHECK(one.lines[0]["completion_tokens"] == 3);
  CHECK(one.lines[1]["completion_tokens"] == 8);
  CHECK(one.lines[15]["finish_reason"] == "stop");
  CHECK(one.lines[15]["completion_tokens"] < one.lines[3]["completion_tokens"]);
  CHECK(one.lines[14]["completion_tokens"] == 0);
  CHECK(one.lines[9]["text"] != one.lines[10]["text"]);
}
