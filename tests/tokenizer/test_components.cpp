// Single normalizers, pre-tokenizers and decoders (including the ones no test
// tokenizer uses: Split behaviours, invert, Digits, Punctuation, Lowercase,
// NFKC, Strip, ...) against the outputs the `tokenizers` package gave for the
// same JSON config on a sample of corpus lines (goldens/components.jsonl).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/tokenizer/decoder.h"
#include "src/tokenizer/normalizer.h"
#include "src/tokenizer/pre_tokenizer.h"
#include "src/tokenizer/regex.h"
#include "tests/tokenizer/golden_io.h"

using nlohmann::json;

namespace {

std::string run_component(const json& rec, const json& input) {
  const std::string kind = rec["kind"].get<std::string>();
  if (kind == "normalizer") {
    std::string text = input.get<std::string>();
    awq::make_normalizer(rec["config"], "test")->normalize(text);
    return json(text).dump();
  }
  if (kind == "pre_tokenizer") {
    std::vector<awq::Piece> pieces{{input.get<std::string>(), true}};
    awq::make_pre_tokenizer(rec["config"], "test")->apply(pieces);
    std::vector<std::string> texts;
    for (const auto& p : pieces) texts.push_back(p.text);
    return json(texts).dump();
  }
  auto tokens = input.get<std::vector<std::string>>();
  awq::make_decoder(rec["config"], "test")->decode_chain(tokens);
  std::string text;
  for (const auto& t : tokens) text += t;
  return json(text).dump();
}

}  // namespace

TEST_CASE("components match the tokenizers package", "[tokenizer][components]") {
  const auto records = awq::test::read_jsonl(awq::test::data_dir() / "goldens" / "components.jsonl");
  REQUIRE(records.size() > 30);
  int failures = 0;
  for (const auto& rec : records) {
    for (const auto& c : rec["cases"]) {
      const std::string got = run_component(rec, c[0]);
      const std::string want = c[1].dump();
      if (got != want) {
        if (++failures <= 10) WARN(rec["config"].dump() << " on " << c[0].dump() << ": got " << got << " want " << want);
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("Oniguruma \\s and \\h are rewritten for PCRE2", "[tokenizer][regex]") {
  // \s must include U+0085 (White_Space), which PCRE2's \s lacks.
  std::vector<std::pair<size_t, size_t>> matches;
  awq::Regex(R"(\s+)", "test").find_all("a\xC2\x85" "b", matches);
  REQUIRE(matches.size() == 1);
  CHECK(matches[0] == std::pair<size_t, size_t>{1, 3});
  awq::Regex(R"([^\s]+)", "test").find_all("a\xC2\x85" "b", matches);
  CHECK(matches.size() == 2);
  awq::Regex(R"(\h+)", "test").find_all("xyz 0fA9 g", matches);
  REQUIRE(matches.size() == 1);
  CHECK(matches[0] == std::pair<size_t, size_t>{4, 8});
  CHECK(awq::translate_oniguruma(R"([\]\s])").find("\\x{3000}") != std::string::npos);
}

TEST_CASE("regex matching survives invalid UTF-8", "[tokenizer][regex]") {
  std::vector<std::pair<size_t, size_t>> matches;
  awq::Regex(R"(\p{L}+)", "test").find_all("ab\xFF\xFE" "cd", matches);
  CHECK(matches.size() == 2);
}
