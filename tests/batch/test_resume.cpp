// Resume: a rerun after a kill finishes the output file with every request
// exactly once, in input order, and cuts a half-written last line away.
#include <catch2/catch.hpp>

#include "src/batch/batch_input.h"
#include "src/batch/batch_loop.h"
#include "src/batch/resume.h"
#include "src/common/error.h"
#include "tests/batch/batch_test_util.h"

using namespace awq;

namespace {

BatchResult echo(const BatchRequest& r) {
  BatchResult out;
  out.text = "answer to " + r.prompt;
  out.prompt_tokens = int(r.prompt.size());
  out.completion_tokens = 3;
  out.finish_reason = "length";
  return out;
}

// One run of the batch pipeline over `input` into `output`, as `awqrun batch` does it.
BatchProgress run_batch_file(const std::string& input, const std::filesystem::path& output, int* handled = nullptr) {
  const ResumeState resume = prepare_resume(output);
  RequestQueue queue(parse_batch_input(input, InputFormat::Jsonl), resume);
  FdLineSink sink(output, true);
  OrderedResultWriter writer(sink, queue.order());
  return run_one_by_one(queue, writer, [&](const BatchRequest& r) {
    if (handled) ++*handled;
    return echo(r);
  }, nullptr);
}

std::string input_of(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "{\"id\": \"r" + std::to_string(i) + "\", \"prompt\": \"p" + std::to_string(i) + "\"}\n";
  return s;
}

}  // namespace

TEST_CASE("resume reads finished ids and cuts a partial last line", "[batch][resume]") {
  test::TempDir dir;
  const auto path = dir / "out.jsonl";
  CHECK(prepare_resume(path).finished_ids.empty());  // no file yet

  const std::string complete = "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": 2, \"error\": \"line 2: bad\"}\n\n{\"id\": \"2\"}\n";
  const std::string partial = "{\"id\": \"c\", \"text\": \"cut of";
  test::write_file(path, complete + partial);
  const ResumeState s = prepare_resume(path);
  CHECK(s.finished_ids == std::unordered_set<std::string>{"\"a\"", "2", "\"2\""});
  CHECK(s.error_lines == 1);
  CHECK(s.dropped_bytes == partial.size());
  CHECK(test::read_file(path) == complete);

  test::write_file(path, complete + "not json\n");
  CHECK_THROWS_WITH(prepare_resume(path), Catch::Contains("line 5 is not an awqrun batch result"));
  test::write_file(path, "{\"text\": \"no id\"}\n");
  CHECK_THROWS_AS(prepare_resume(path), Error);
}

TEST_CASE("a rerun after a kill completes the file without duplicates", "[batch][resume]") {
  test::TempDir dir;
  const auto path = dir / "out.jsonl";
  const std::string input = input_of(7);

  int handled = 0;
  run_batch_file(input, path, &handled);
  CHECK(handled == 7);
  const std::string full = test::read_file(path);

  // A killed run: three results on disk, the fourth cut in the middle of its line.
  size_t cut = 0;
  for (int i = 0; i < 3; ++i) cut = full.find('\n', cut) + 1;
  test::write_file(path, full.substr(0, cut) + full.substr(cut, 10));

  handled = 0;
  const BatchProgress p = run_batch_file(input, path, &handled);
  CHECK(handled == 4);
  CHECK(p.total == 4);
  CHECK(p.done == 4);
  CHECK(test::read_file(path) == full);

  // Everything done: a third run does nothing.
  handled = 0;
  run_batch_file(input, path, &handled);
  CHECK(handled == 0);
  CHECK(test::read_file(path) == full);

  const auto lines = test::parse_lines(full);
  REQUIRE(lines.size() == 7);
  for (size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i]["id"] == "r" + std::to_string(i));
    CHECK(lines[i]["text"] == "answer to p" + std::to_string(i));
  }
}

TEST_CASE("resume keeps error lines as finished", "[batch][resume]") {
  test::TempDir dir;
  const auto path = dir / "out.jsonl";
  const std::string input = "{\"id\": 1, \"prompt\": \"a\"}\n{\"id\": 2, \"temperature\": \"x\"}\n{\"id\": 3, \"prompt\": \"c\"}\n";
  const BatchProgress first = run_batch_file(input, path);
  CHECK(first.failed == 1);
  int handled = 0;
  const BatchProgress second = run_batch_file(input, path, &handled);
  CHECK(handled == 0);
  CHECK(second.total == 0);
  CHECK(prepare_resume(path).error_lines == 1);  // `awqrun batch` still exits 5
  CHECK(test::parse_lines(test::read_file(path)).size() == 3);
}
