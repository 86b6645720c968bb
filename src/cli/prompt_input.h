// Where the prompt comes from: piped stdin first, then -f FILE, then -p TEXT
// (as `llm` and ollama do: `git diff | awqrun -p "Review this"`), joined by a
// blank line. stdin is read only when it is a pipe or a file, so a terminal or
// /dev/null never blocks.
#pragma once
#include <string>

namespace awq {

std::string read_prompt(const std::string& prompt_flag, const std::string& prompt_file);
bool stdin_has_piped_input();
bool stdout_is_terminal();

}  // namespace awq
