// Typed errors: every failure the user can cause maps to one clear line on
// stderr and a documented exit code (README "Exit codes"). Thrown at load,
// parse and preflight time; caught only in src/cli/main.cpp.
#pragma once
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace awq {

enum class ErrorKind {
  Runtime = 1,  // anything unexpected while running
  Usage = 2,    // bad command line
  Input = 3,    // bad model directory, checkpoint, config, tokenizer or input text
  Device = 4,   // no GPU, driver error, out of GPU memory
};

int exit_code(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), kind_(kind), hint_(std::move(hint)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorKind kind_;
  std::string hint_;
};

// Shorthands: throw input_error("{}: bad dtype {}", path, dtype);
template <typename... Args>
[[noreturn]] void throw_error(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(kind, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void input_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Input, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void usage_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Usage, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void device_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Device, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void runtime_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::Runtime, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace awq
