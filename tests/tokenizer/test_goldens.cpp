// Every tokenizer against the reference goldens: ids on every corpus line (with
// and without special tokens), decode (with and without skipping specials),
// streamed decode == full decode, and the raw tokenizers.json pipeline.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/tokenizer/tokenizer.h"
#include "tests/tokenizer/golden_io.h"

using awq::StreamDecoder;
using awq::Tokenizer;
using awq::TokenizerOptions;
using nlohmann::json;

namespace {

struct Failures {
  int count = 0;
  std::vector<std::string> first;
  void add(const std::string& what) {
    ++count;
    if (first.size() < 8) first.push_back(what);
  }
  void report(const std::string& title) const {
    for (const auto& f : first) WARN(title << ": " << f);
  }
};

std::string ids_text(const std::vector<int>& ids) { return json(ids).dump(); }

std::string streamed(const Tokenizer& tok, const std::vector<int>& ids, bool skip) {
  StreamDecoder stream(tok, skip);
  std::string out;
  for (int id : ids) out += stream.push(id);
  return out + stream.flush();
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    for (const auto& j : awq::test::read_jsonl(awq::test::data_dir() / "corpus.jsonl")) out.push_back(j.get<std::string>());
    return out;
  }();
  return lines;
}

void check_tokenizer(const std::string& name) {
  const auto dir = awq::test::shared_tokenizer_dir(name);
  const Tokenizer tok = Tokenizer::load(dir);
  const Tokenizer raw = Tokenizer::load(dir, TokenizerOptions{.transformers_compat = false});
  const auto records = awq::test::read_jsonl(awq::test::data_dir() / "goldens" / (name + ".jsonl"));
  const auto& lines = corpus();
  REQUIRE(records.size() > lines.size());
  const auto prefix = records[0]["prefix"].get<std::vector<int>>();
  const auto suffix = records[0]["suffix"].get<std::vector<int>>();

  Failures ids_fail, special_fail, raw_fail, decode_fail, stream_fail;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& rec = records[i + 1];
    const std::string& line = lines[i];
    const auto want = rec["ids"].get<std::vector<int>>();
    const auto got = tok.encode(line, false);
    if (got != want) ids_fail.add("line " + std::to_string(i) + " " + awq::test::escaped(line) + " got " + ids_text(got) + " want " + ids_text(want));

    std::vector<int> full = prefix;
    full.insert(full.end(), want.begin(), want.end());
    full.insert(full.end(), suffix.begin(), suffix.end());
    const auto got_full = tok.encode(line, true);
    if (got_full != full) special_fail.add("line " + std::to_string(i) + " got " + ids_text(got_full));

    const auto want_raw = rec.contains("raw") ? rec["raw"].get<std::vector<int>>() : want;
    const auto got_raw = raw.encode(line, false);
    if (got_raw != want_raw) raw_fail.add("line " + std::to_string(i) + " " + awq::test::escaped(line) + " got " + ids_text(got_raw) + " want " + ids_text(want_raw));

    for (const bool skip : {false, true}) {
      const char* key = skip ? "ds" : "d";
      const std::string want_text = rec.contains(key) ? rec[key].get<std::string>() : line;
      const std::string got_text = tok.decode(full, skip);
      if (got_text != want_text) decode_fail.add("line " + std::to_string(i) + std::string(" ") + key + " got " + awq::test::escaped(got_text) + " want " + awq::test::escaped(want_text));
      const std::string s = streamed(tok, full, skip);
      if (s != got_text) stream_fail.add("line " + std::to_string(i) + std::string(" ") + key + " stream " + awq::test::escaped(s) + " full " + awq::test::escaped(got_text));
    }
  }
  for (size_t r = lines.size() + 1; r < records.size(); ++r) {
    const auto ids = records[r]["rand"].get<std::vector<int>>();
    for (const bool skip : {false, true}) {
      const std::string want_text = records[r][skip ? "ds" : "d"].get<std::string>();
      const std::string got_text = tok.decode(ids, skip);
      if (got_text != want_text) decode_fail.add("random ids " + ids_text(ids) + " got " + awq::test::escaped(got_text) + " want " + awq::test::escaped(want_text));
      const std::string s = streamed(tok, ids, skip);
      if (s != got_text) stream_fail.add("random ids " + ids_text(ids) + " stream " + awq::test::escaped(s) + " full " + awq::test::escaped(got_text));
    }
  }
  ids_fail.report(name + " ids");
  special_fail.report(name + " ids+special");
  raw_fail.report(name + " raw tokenizer.json ids");
  decode_fail.report(name + " decode");
  stream_fail.report(name + " stream");
  CHECK(ids_fail.count == 0);
  CHECK(special_fail.count == 0);
  CHECK(raw_fail.count == 0);
  CHECK(decode_fail.count == 0);
  CHECK(stream_fail.count == 0);
}

}  // namespace

TEST_CASE("llama3 matches transformers on the corpus", "[tokenizer][golden]") { check_tokenizer("llama3"); }
TEST_CASE("smollm2 matches transformers on the corpus", "[tokenizer][golden]") { check_tokenizer("smollm2"); }
TEST_CASE("llama2 matches transformers on the corpus", "[tokenizer][golden]") { check_tokenizer("llama2"); }
TEST_CASE("qwen3 matches transformers on the corpus", "[tokenizer][golden]") { check_tokenizer("qwen3"); }
