#include "src/batch/batch_input.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <unordered_map>

#include "src/common/error.h"
#include "src/common/log.h"

namespace awq {
namespace {

// Calls f(line_text, line_number) for each line, without its "\n" or "\r\n".
template <typename F>
void for_each_line(std::string_view content, F&& f) {
  int number = 0;
  while (!content.empty()) {
    const size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content = end == std::string_view::npos ? std::string_view{} : content.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line, ++number);
  }
}

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\f\v") == std::string_view::npos; }

char first_char(std::string_view line) { return line[line.find_first_not_of(" \t\f\v")]; }

}  // namespace

InputFormat detect_input_format(const std::filesystem::path& path, std::string_view content) {
  const std::string ext = path.extension().string();
  if (ext == ".jsonl" || ext == ".json") return InputFormat::Jsonl;
  if (ext == ".txt") return InputFormat::Text;
  bool all_objects = true, any_line = false;
  for_each_line(content, [&](std::string_view line, int) {
    if (is_blank(line)) return;
    any_line = true;
    if (first_char(line) != '{') all_objects = false;
  });
  return any_line && all_objects ? InputFormat::Jsonl : InputFormat::Text;
}

InputFormat parse_input_format(std::string_view name, const std::filesystem::path& path, std::string_view content) {
  if (name == "jsonl") return InputFormat::Jsonl;
  if (name == "text") return InputFormat::Text;
  if (name == "auto") return detect_input_format(path, content);
  usage_error("--input-format must be auto, jsonl or text, not {}", name);
}

std::vector<BatchRequest> parse_batch_input(std::string_view content, InputFormat format) {
  std::vector<BatchRequest> requests;
  std::unordered_map<std::string, int> first_line_of_id;
  std::set<std::string> unknown_keys;
  for_each_line(content, [&](std::string_view line, int number) {
    if (is_blank(line)) return;
    BatchRequest r;
    if (format == InputFormat::Jsonl) {
      r = parse_jsonl_request(std::string(line), number);
    } else {
      r.line = number;
      r.id = number;
      r.prompt = std::string(line);
    }
    r.index = requests.size();
    const auto [it, inserted] = first_line_of_id.emplace(id_key(r.id), number);
    if (!inserted && r.error.empty())
      r.error = fmt::format("line {}: id {} repeats the id of line {}", number, id_key(r.id), it->second);
    unknown_keys.insert(r.unknown_keys.begin(), r.unknown_keys.end());
    requests.push_back(std::move(r));
  });
  for (const std::string& key : unknown_keys) log_warn("batch input: ignoring unknown key \"{}\"", key);
  return requests;
}

std::string read_batch_file(const std::filesystem::path& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  if (std::filesystem::is_directory(path)) input_error("batch input {} is a directory", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("cannot read batch input {}", path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace awq
