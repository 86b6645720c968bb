// Pure helpers of `awqrun bench`: medians, --lengths parsing, context sizing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "src/bench/bench_plan.h"
#include "src/bench/stats.h"
#include "src/common/error.h"

using namespace awq;

TEST_CASE("median matches the middle of a sorted copy", "[bench]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(-5.0, 5.0);
  for (int n = 1; n <= 40; ++n) {
    std::vector<double> v(n);
    for (double& x : v) x = dist(rng);
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const double expected = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    INFO("n = " << n);
    CHECK(median(v) == expected);
  }
  CHECK_THROWS_AS(median({}), Error);
}

TEST_CASE("--lengths parses a comma-separated list in order", "[bench]") {
  CHECK(parse_lengths("32,64,128,256,512,1024,2048") == std::vector<int>{32, 64, 128, 256, 512, 1024, 2048});
  CHECK(parse_lengths("16,8") == std::vector<int>{16, 8});
  CHECK(parse_lengths("1") == std::vector<int>{1});
}

TEST_CASE("bad --lengths are usage errors naming the item", "[bench]") {
  for (const char* bad : {"", ",", "8,", ",8", "8,,16", "0", "-4", "8,x", "1.5", "8 ,16", "99999999999", "2097152"}) {
    INFO("'" << bad << "'");
    try {
      parse_lengths(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Usage);
      CHECK(std::string(e.what()).find("--lengths") != std::string::npos);
    }
  }
  try {
    parse_lengths("8,16,8");
    FAIL("accepted a repeat");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("twice") != std::string::npos);
  }
}

TEST_CASE("the bench context holds prompt and decode of the longest length", "[bench]") {
  const std::vector<int> lengths = {32, 512, 64};
  CHECK(positions_needed(512) == 1024);
  CHECK(bench_context(lengths, 4096, 0) == 1024);
  CHECK(bench_context(lengths, 600, 0) == 600);  // capped by the model: 512 will be skipped
  CHECK(bench_context(lengths, 0, 0) == 1024);   // no max_position_embeddings in the config
  CHECK(bench_context(lengths, 600, 5000) == 5000);  // --ctx wins
}
