#include "src/cli/prompt_input.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "src/common/error.h"

namespace awq {

bool stdin_has_piped_input() {
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) != 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode);
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::string read_prompt(const std::string& prompt_flag, const std::string& prompt_file) {
  std::string parts[3];
  if (stdin_has_piped_input()) {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    parts[0] = ss.str();
  }
  if (!prompt_file.empty()) {
    std::ifstream f(prompt_file, std::ios::binary);
    if (!f) input_error("cannot read prompt file {}", prompt_file);
    parts[1].assign(std::istreambuf_iterator<char>(f), {});
  }
  parts[2] = prompt_flag;
  std::string prompt;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!prompt.empty()) prompt += "\n\n";
    prompt += p;
  }
  if (prompt.empty())
    usage_error("no prompt: give -p TEXT, -f FILE, or pipe text into awqrun (see awqrun --help)");
  return prompt;
}

}  // namespace awq
