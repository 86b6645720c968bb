// The one-by-one loop: failing requests give error lines and the batch goes
// on; fatal conditions stop it with everything finished already on disk.
#include <catch2/catch.hpp>

#include "src/batch/batch_input.h"
#include "src/batch/batch_loop.h"
#include "src/batch/progress_display.h"
#include "src/common/error.h"
#include "tests/batch/batch_test_util.h"

using namespace awq;

namespace {

struct StopEverything {};  // like the Ctrl-C exception: not a std::exception

BatchResult answer(const BatchRequest& r) {
  if (r.prompt == "input error") input_error("prompt is 900 tokens, + 256 new tokens exceeds the context of 512");
  if (r.prompt == "std error") throw std::runtime_error("vector too long");
  if (r.prompt == "device error") device_error("CUDA out of memory");
  if (r.prompt == "interrupt") throw StopEverything{};
  BatchResult out;
  out.text = "ok " + r.prompt;
  out.completion_tokens = 2;
  out.finish_reason = "stop";
  return out;
}

struct Run {
  test::MemorySink sink;
  std::vector<BatchProgress> progress;
  std::vector<std::string> handled;
  BatchProgress final_progress;
};

void run(Run& out, const std::string& input, InputFormat format = InputFormat::Jsonl) {
  RequestQueue queue(parse_batch_input(input, format), ResumeState{});
  OrderedResultWriter writer(out.sink, queue.order());
  out.final_progress = run_one_by_one(
      queue, writer,
      [&](const BatchRequest& r) {
        out.handled.push_back(r.prompt);
        return answer(r);
      },
      [&](const BatchProgress& p) { out.progress.push_back(p); });
}

}  // namespace

TEST_CASE("failed and malformed requests give error lines; the others still run", "[batch][loop]") {
  Run r;
  run(r,
      "{\"id\": \"a\", \"prompt\": \"one\"}\n"
      "{\"id\": \"b\", \"prompt\": \"input error\"}\n"
      "{\"id\": \"c\", broken\n"
      "{\"id\": \"d\", \"prompt\": \"std error\"}\n"
      "{\"id\": \"e\", \"prompt\": \"two\"}\n");
  CHECK(r.handled == std::vector<std::string>{"one", "input error", "std error", "two"});  // not the broken line
  const auto lines = test::parse_lines(r.sink.text);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == nlohmann::json::parse(R"({"id": "a", "text": "ok one", "prompt_tokens": 0, "completion_tokens": 2,
      "finish_reason": "stop", "timings": {"prefill_ms": 0.0, "decode_ms": 0.0, "tokens_per_s": 0.0}})"));
  CHECK(lines[1] == nlohmann::json::parse(
                        R"({"id": "b", "error": "prompt is 900 tokens, + 256 new tokens exceeds the context of 512"})"));
  CHECK(lines[2]["id"] == 3);
  CHECK_THAT(lines[2]["error"].get<std::string>(), Catch::StartsWith("line 3: not valid JSON"));
  CHECK(lines[3] == nlohmann::json::parse(R"({"id": "d", "error": "vector too long"})"));
  CHECK(lines[4]["text"] == "ok two");
  CHECK(r.final_progress.done == 5);
  CHECK(r.final_progress.failed == 3);
  CHECK(r.final_progress.completion_tokens == 4);
  REQUIRE(r.progress.size() == 5);
  CHECK(r.progress[2].done == 3);
  CHECK(r.progress[2].failed == 2);
  CHECK(r.progress[2].total == 5);
}

TEST_CASE("a device error or an interrupt stops the batch after the finished results", "[batch][loop]") {
  for (const std::string stopper : {"device error", "interrupt"}) {
    INFO(stopper);
    Run r;
    const std::string input = "first\nsecond\n" + stopper + "\nnever run\n";
    if (stopper == "device error")
      CHECK_THROWS_AS(run(r, input, InputFormat::Text), Error);
    else
      CHECK_THROWS_AS(run(r, input, InputFormat::Text), StopEverything);
    CHECK(r.handled == std::vector<std::string>{"first", "second", stopper});
    const auto lines = test::parse_lines(r.sink.text);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["id"] == 1);
    CHECK(lines[1]["id"] == 2);
  }
}

TEST_CASE("result lines are one JSON object and one newline, with bad UTF-8 replaced", "[batch][loop]") {
  BatchResult r;
  r.id = "x";
  r.text = "caf\xc3\xa9 \xff\nnext";
  r.prompt_tokens = 11;
  r.completion_tokens = 5;
  r.finish_reason = "length";
  r.prefill_ms = 12.34567;
  r.decode_ms = 100.0;
  r.tokens_per_s = 40.0004;
  const std::string line = format_result_line(r);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  const auto j = nlohmann::json::parse(line);
  CHECK(j["text"] == "caf\xc3\xa9 \xef\xbf\xbd\nnext");
  CHECK(j["timings"]["prefill_ms"] == Approx(12.346));
  CHECK(j["timings"]["tokens_per_s"] == Approx(40.0));
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(line);
  for (const auto& item : ordered.items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"id", "text", "prompt_tokens", "completion_tokens", "finish_reason", "timings"});
  CHECK(format_result_line(error_result(7, "boom")) == "{\"id\":7,\"error\":\"boom\"}\n");
}

TEST_CASE("the progress bar shows counts, rate and ETA", "[batch][progress]") {
  BatchProgress p;
  p.total = 20;
  p.done = 5;
  p.failed = 1;
  p.completion_tokens = 500;
  CHECK(ProgressDisplay::format_bar(p, 10.0, 8) == "[##------] 5/20  1 failed  0.50 req/s  50 tok/s  ETA 0:30");
  p.done = 20;
  p.failed = 0;
  CHECK(ProgressDisplay::format_bar(p, 3725.0, 4) == "[####] 20/20  0.01 req/s  0 tok/s");
  p.done = 1;
  CHECK(ProgressDisplay::format_bar(p, 3600.0, 4) == "[----] 1/20  0.00 req/s  0 tok/s  ETA 19:00:00");
}
