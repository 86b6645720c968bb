// Runs the awqrun binary under test through the shell, capturing stdout,
// stderr and the exit code, so tests see exactly what a user or script sees.
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace awq::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// args are passed as separate, quoted words; stdin_text (if not null) is piped in,
// otherwise stdin is /dev/null.
inline ProcessResult run_awqrun(const std::string& args, const char* stdin_text = nullptr) {
  namespace fs = std::filesystem;
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path() / ("awqrun-cli-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string tag = std::to_string(counter++);
  const fs::path out = dir / ("out" + tag), err = dir / ("err" + tag), in = dir / ("in" + tag);
  std::string input = "/dev/null";
  if (stdin_text) {
    std::ofstream(in, std::ios::binary) << stdin_text;
    input = in.string();
  }
  const std::string cmd = shell_quote(AWQRUN_EXE) + " " + args + " <" + shell_quote(input) + " >" +
                          shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int status = std::system(cmd.c_str());
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

}  // namespace awq::test
