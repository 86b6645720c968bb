// Reading the committed goldens (tests/data/tokenizer/, written by
// scripts/gen_tokenizer_goldens.py) and printing readable failure context.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace awq::test {

std::filesystem::path data_dir();    // tests/data/tokenizer
std::filesystem::path shared_tokenizer_dir(const std::string& name);  // llama2, llama3, qwen3 or smollm2
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);
std::string escaped(const std::string& text);  // JSON-quoted, for messages

}  // namespace awq::test
