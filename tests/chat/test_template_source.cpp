// find_chat_template lookup order: --chat-template file, chat_template.jinja,
// tokenizer_config.json (string, or list with "default"/"tool_use").
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "src/chat/chat_template.h"
#include "src/common/error.h"

namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("awq_chat_test_" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name, std::ios::binary) << text;
  }
};

}  // namespace

TEST_CASE("find_chat_template lookup order", "[chat]") {
  TempDir dir;
  CHECK_FALSE(awq::find_chat_template(dir.path, std::nullopt).has_value());

  dir.write("tokenizer_config.json", R"({"bos_token": "<s>"})");
  CHECK_FALSE(awq::find_chat_template(dir.path, std::nullopt).has_value());

  dir.write("tokenizer_config.json", R"({"chat_template": "from config"})");
  CHECK(awq::find_chat_template(dir.path, std::nullopt) == "from config");

  dir.write("chat_template.jinja", "from jinja file\n");
  CHECK(awq::find_chat_template(dir.path, std::nullopt) == "from jinja file\n");

  dir.write("override.jinja", "from override");
  CHECK(awq::find_chat_template(dir.path, dir.path / "override.jinja") == "from override");
}

TEST_CASE("find_chat_template list form picks default, or tool_use with tools", "[chat]") {
  TempDir dir;
  dir.write("tokenizer_config.json",
            R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})");
  CHECK(awq::find_chat_template(dir.path, std::nullopt) == "D");
  CHECK(awq::find_chat_template(dir.path, std::nullopt, true) == "T");

  dir.write("tokenizer_config.json", R"({"chat_template": [{"name": "rag", "template": "R"}]})");
  CHECK_THROWS_AS(awq::find_chat_template(dir.path, std::nullopt), awq::Error);
}

TEST_CASE("find_chat_template reports unreadable inputs as Error(Input)", "[chat]") {
  TempDir dir;
  try {
    awq::find_chat_template(dir.path, dir.path / "missing.jinja");
    FAIL("expected an error");
  } catch (const awq::Error& e) {
    CHECK(e.kind() == awq::ErrorKind::Input);
    CHECK_THAT(e.what(), Catch::Contains("missing.jinja"));
  }
  dir.write("tokenizer_config.json", "{not json");
  CHECK_THROWS_AS(awq::find_chat_template(dir.path, std::nullopt), awq::Error);
}

TEST_CASE("real tokenizer configs: llama2 has no template, llama3 and qwen3 do", "[chat]") {
  fs::path base = fs::path(AWQRUN_SHARED_DIR) / "testdata" / "tokenizers";
  CHECK_FALSE(awq::find_chat_template(base / "llama2", std::nullopt).has_value());
  auto qwen3 = awq::find_chat_template(base / "qwen3", std::nullopt);
  REQUIRE(qwen3.has_value());
  CHECK_NOTHROW(awq::ChatTemplate::parse(*qwen3, "qwen3"));
  CHECK(awq::find_chat_template(base / "llama3", std::nullopt).has_value());
}
