// Bad tokenizer files give one Error(Input) line naming the problem.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "src/common/error.h"
#include "src/tokenizer/tokenizer.h"
#include "src/tokenizer/utf8.h"

namespace {

std::string minimal_json(const std::string& pre_tokenizer) {
  return R"({"added_tokens":[],"normalizer":null,"pre_tokenizer":)" + pre_tokenizer +
         R"(,"post_processor":null,"decoder":null,"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}})";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const awq::Error& e) {
    CHECK(e.kind() == awq::ErrorKind::Input);
    return e.what();
  }
  FAIL("no error thrown");
  return {};
}

}  // namespace

TEST_CASE("minimal tokenizer merges", "[tokenizer][errors]") {
  const auto tok = awq::Tokenizer::from_json(minimal_json("null"), "");
  CHECK(tok.encode("abab") == std::vector<int>{2, 2});
  CHECK(tok.decode(std::vector<int>{2, 0}) == "ab a");  // no decoder: tokens joined by spaces
}

TEST_CASE("unknown component types are named", "[tokenizer][errors]") {
  const auto msg = error_of([] { awq::Tokenizer::from_json(minimal_json(R"({"type":"Frobnicate"})"), ""); });
  CHECK(msg.find("Frobnicate") != std::string::npos);
  CHECK(msg.find("pre_tokenizer") != std::string::npos);
}

TEST_CASE("merges must reference the vocabulary", "[tokenizer][errors]") {
  std::string j = minimal_json("null");
  j.replace(j.find("\"a b\""), 5, "\"a c\"");
  CHECK(error_of([&] { awq::Tokenizer::from_json(j, ""); }).find("merge #0") != std::string::npos);
}

TEST_CASE("malformed JSON names the file", "[tokenizer][errors]") {
  CHECK(error_of([] { awq::Tokenizer::from_json("{", "", "x/tokenizer.json"); }).find("x/tokenizer.json") !=
        std::string::npos);
}

TEST_CASE("a SentencePiece-only checkpoint asks for tokenizer.json", "[tokenizer][errors]") {
  const auto dir = std::filesystem::temp_directory_path() / "awq_tokenizer_spm_only";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.model") << "x";
  const auto msg = error_of([&] { awq::Tokenizer::load(dir); });
  CHECK(msg.find("tokenizer.json is required") != std::string::npos);
  CHECK(msg.find("save_pretrained") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("lossy UTF-8 replaces each bad subsequence once", "[tokenizer][utf8]") {
  CHECK(awq::utf8::lossy("a\xE2\x82" "b\xFF") == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}
