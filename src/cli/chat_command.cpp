// awqrun chat: a conversation through the model's chat template. Only this
// command reads interactively. With a terminal on stdin and stdout it shows a
// colored "> " prompt; otherwise it reads one user turn per line and prints
// each answer followed by a newline, with no prompts (for scripts).
// Commands: /reset (forget the conversation), /exit (or end of input), /help.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "src/cli/commands.h"
#include "src/cli/interrupt.h"
#include "src/cli/prompt_input.h"
#include "src/cli/session.h"
#include "src/common/error.h"
#include "src/common/log.h"

namespace awq {
namespace {

constexpr const char* kHelp = "/reset  forget the conversation (keeps --system)\n"
                              "/exit   leave (also Ctrl-D)\n"
                              "/help   this list\n";

class Conversation {
 public:
  explicit Conversation(std::string system) : system_(std::move(system)) { reset(); }
  void reset() {
    messages_ = nlohmann::ordered_json::array();
    if (!system_.empty()) messages_.push_back({{"role", "system"}, {"content", system_}});
  }
  void add(const char* role, const std::string& content) { messages_.push_back({{"role", role}, {"content", content}}); }
  void drop_last() { messages_.erase(messages_.size() - 1); }
  const nlohmann::ordered_json& messages() const { return messages_; }

 private:
  std::string system_;
  nlohmann::ordered_json messages_;
};

// A line that is exactly "/word" is a command; anything else is a user turn.
bool is_command(const std::string& line) {
  return line.size() > 1 && line[0] == '/' && line.find_first_of(" \t") == std::string::npos;
}

std::string trimmed(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

int run_chat(const ChatCommand& cmd) {
  Session s = open_session(cmd.model, cmd.chat_template_file);
  use_chat_template(s, "chat");  // refuses a model without a template
  GenerateOptions options = make_generate_options(s, cmd.sampling, cmd.max_new_tokens, cmd.stop);
  const uint64_t first_seed = options.sampling.seed;

  const bool interactive = ::isatty(STDIN_FILENO) == 1 && stdout_is_terminal();
  const char* prompt = interactive ? "\033[1;32m> \033[0m" : "";
  if (interactive) std::fprintf(stderr, "awqrun chat with %s (/help for commands, Ctrl-D to leave)\n", s.dir.c_str());

  Conversation conversation(cmd.system);
  std::string line;
  for (uint64_t turn = 0;; ) {
    std::fputs(prompt, stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    line = trimmed(line);
    if (line.empty()) continue;
    if (is_command(line)) {
      if (line == "/exit" || line == "/quit") break;
      if (line == "/reset") {
        conversation.reset();
        if (interactive) std::fputs("(conversation cleared)\n", stderr);
      } else if (line == "/help") {
        std::fputs(kHelp, stderr);
      } else {
        std::fprintf(stderr, "unknown command %s (/help lists them)\n", line.c_str());
      }
      continue;
    }

    conversation.add("user", line);
    const std::vector<int> ids = encode_prompt(s, render_chat_messages(s, conversation.messages()), true);
    options.sampling.seed = first_seed + turn++;  // each turn its own stream, reproducible from --seed
    GenerateResult r;
    try {
      r = generate(*s.runner, s.tokenizer, ids, options, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        check_interrupt();
      });
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Input) throw;
      // The conversation no longer fits the context: keep the session usable.
      conversation.drop_last();
      std::fprintf(stderr, "awqrun: error: %s (/reset starts over)\n", e.what());
      continue;
    }
    std::fputs("\n", stdout);
    std::fflush(stdout);
    conversation.add("assistant", r.text);
    log_info("{} prompt tokens, {} generated, {:.1f} tok/s", r.prompt_tokens, r.completion_tokens,
             r.timings.decode_tokens_per_s);
  }
  check_interrupt();  // Ctrl-C while waiting for input ends the read: exit 130, not 0
  if (interactive) std::fputs("\n", stdout);
  return 0;
}

}  // namespace awq
