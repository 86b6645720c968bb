// The ordered result writer: input order whatever the finishing order, from
// any thread; whole lines on disk.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <thread>

#include "src/batch/ordered_writer.h"
#include "tests/batch/batch_test_util.h"

using namespace awq;

namespace {

struct MemorySink final : LineSink {
  std::vector<std::string> lines;
  void write_line(std::string_view line) override { lines.emplace_back(line); }
};

std::string line_of(size_t index) { return "{\"id\": " + std::to_string(index) + "}\n"; }

}  // namespace

TEST_CASE("results finishing out of order are written in input order, each as soon as possible", "[batch][writer]") {
  MemorySink sink;
  // Requests 1 and 4 were finished by an earlier run (resume), so they are not expected.
  OrderedResultWriter writer(sink, {0, 2, 3, 5});
  writer.submit(3, line_of(3));
  writer.submit(5, line_of(5));
  CHECK(sink.lines.empty());  // 0 and 2 are still running
  writer.submit(0, line_of(0));
  CHECK(sink.lines == std::vector<std::string>{line_of(0)});
  CHECK(writer.written() == 1);
  writer.submit(2, line_of(2));
  CHECK(sink.lines == std::vector<std::string>{line_of(0), line_of(2), line_of(3), line_of(5)});
  CHECK(writer.written() == writer.total());

  CHECK_THROWS_AS(writer.submit(2, line_of(2)), std::logic_error);
  MemorySink other;
  OrderedResultWriter w2(other, {0, 1});
  CHECK_THROWS_AS(w2.submit(7, line_of(7)), std::logic_error);
  w2.submit(1, line_of(1));
  CHECK_THROWS_AS(w2.submit(1, line_of(1)), std::logic_error);
}

TEST_CASE("many threads submitting in random order still give input order", "[batch][writer]") {
  const size_t n = 500;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::vector<size_t> shuffled = order;
  std::mt19937 rng(std::random_device{}());
  std::shuffle(shuffled.begin(), shuffled.end(), rng);

  MemorySink sink;
  OrderedResultWriter writer(sink, order);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < n; i += 4) writer.submit(shuffled[i], line_of(shuffled[i]));
    });
  for (auto& th : threads) th.join();
  REQUIRE(sink.lines.size() == n);
  for (size_t i = 0; i < n; ++i) CHECK(sink.lines[i] == line_of(i));
}

TEST_CASE("the file sink appends whole lines and creates the file", "[batch][writer]") {
  test::TempDir dir;
  const auto path = dir / "out.jsonl";
  test::write_file(path, "{\"id\": \"old\"}\n");
  {
    FdLineSink sink(path, true);
    OrderedResultWriter writer(sink, {0, 1});
    writer.submit(1, line_of(1));
    writer.submit(0, line_of(0));
  }
  CHECK(test::read_file(path) == "{\"id\": \"old\"}\n" + line_of(0) + line_of(1));
  CHECK_THROWS_WITH(FdLineSink(dir / "missing-dir" / "out.jsonl", true), Catch::Contains("cannot open"));
}
