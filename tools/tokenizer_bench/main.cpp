// tokenizer-bench: load time and single-core encode/decode throughput of
// tokenizer.json files on English prose. Prints a table to stdout.
//
//   tokenizer-bench [--text FILE]... MODEL_DIR...
//
// Without --text the prose is the license texts in /usr/share/common-licenses.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/common/error.h"
#include "src/tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string read_text(const std::vector<std::string>& files) {
  std::vector<std::filesystem::path> paths(files.begin(), files.end());
  if (paths.empty()) {
    const std::filesystem::path licenses = "/usr/share/common-licenses";
    if (std::filesystem::is_directory(licenses)) {
      for (const auto& e : std::filesystem::directory_iterator(licenses))
        if (e.is_regular_file() && !e.is_symlink()) paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
  }
  std::string text;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    if (!in) awq::input_error("{}: cannot open", p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    text += ss.str();
  }
  if (text.empty()) awq::usage_error("no text to encode: pass --text FILE");
  return text;
}

struct Row {
  std::string name;
  double load_ms, cold_mb_s, warm_mb_s, decode_mb_s;
  size_t tokens;
};

Row bench(const std::string& dir, const std::string& text) {
  Row row{std::filesystem::path(dir).filename().string(), 0, 0, 0, 0, 0};
  auto t0 = Clock::now();
  const awq::Tokenizer tok = awq::Tokenizer::load(dir);
  row.load_ms = seconds_since(t0) * 1e3;

  const double mb = static_cast<double>(text.size()) / 1e6;
  t0 = Clock::now();
  auto ids = tok.encode(text, false);
  row.cold_mb_s = mb / seconds_since(t0);
  row.tokens = ids.size();

  // Steady state: repeat until one second has passed, keep the best pass.
  double best = 1e30;
  const auto start = Clock::now();
  do {
    t0 = Clock::now();
    ids = tok.encode(text, false);
    best = std::min(best, seconds_since(t0));
  } while (seconds_since(start) < 1.0);
  row.warm_mb_s = mb / best;

  best = 1e30;
  std::string decoded;
  for (int i = 0; i < 3; ++i) {
    t0 = Clock::now();
    decoded = tok.decode(ids, false);
    best = std::min(best, seconds_since(t0));
  }
  row.decode_mb_s = static_cast<double>(decoded.size()) / 1e6 / best;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tokenizer load time and single-core encode throughput"};
  std::vector<std::string> dirs, text_files;
  app.add_option("model_dirs", dirs, "folders holding tokenizer.json")->required();
  app.add_option("--text", text_files, "prose to encode (default: /usr/share/common-licenses/*)");
  CLI11_PARSE(app, argc, argv);
  try {
    const std::string text = read_text(text_files);
    fmt::print("text: {:.2f} MB of English prose\n\n", static_cast<double>(text.size()) / 1e6);
    fmt::print("{:<12} {:>10} {:>14} {:>14} {:>10} {:>14}\n", "tokenizer", "load ms", "encode cold", "encode warm",
               "tokens", "decode");
    for (const auto& dir : dirs) {
      const Row r = bench(dir, text);
      fmt::print("{:<12} {:>10.1f} {:>9.1f} MB/s {:>9.1f} MB/s {:>10} {:>9.1f} MB/s\n", r.name, r.load_ms, r.cold_mb_s,
                 r.warm_mb_s, r.tokens, r.decode_mb_s);
    }
  } catch (const awq::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return awq::exit_code(e.kind());
  }
  return 0;
}
