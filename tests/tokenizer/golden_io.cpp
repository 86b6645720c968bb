#include "tests/tokenizer/golden_io.h"

#include <fstream>
#include <stdexcept>

namespace awq::test {

std::filesystem::path data_dir() { return std::filesystem::path(AWQRUN_SOURCE_DIR) / "tests" / "data" / "tokenizer"; }

std::filesystem::path shared_tokenizer_dir(const std::string& name) {
  if (name == "smollm2") return data_dir() / "smollm2";
  if (const char* env = std::getenv("AWQRUN_SHARED_DIR")) {
    return std::filesystem::path(env) / "testdata" / "tokenizers" / name;
  }
  return std::filesystem::path(AWQRUN_SHARED_DIR) / "testdata" / "tokenizers" / name;
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::string escaped(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace awq::test
