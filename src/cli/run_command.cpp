// awqrun run: one prompt in, generated text out, streamed to stdout as it is
// produced (or one JSON object with --json).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "src/cli/commands.h"
#include "src/cli/interrupt.h"
#include "src/cli/prompt_input.h"
#include "src/cli/session.h"
#include "src/common/log.h"

namespace awq {

int run_generate(const RunCommand& cmd) {
  const std::string user_text = read_prompt(cmd.prompt, cmd.prompt_file);
  Session s = open_session(cmd.model, cmd.chat_template_file);
  const bool templated = use_chat_template(s, cmd.chat_mode);
  if (!templated && !cmd.system.empty()) log_warn("--system is ignored without a chat template");
  const std::string prompt = templated ? render_chat_prompt(s, user_text, cmd.system) : user_text;
  const std::vector<int> ids = encode_prompt(s, prompt, templated);
  const GenerateOptions options = make_generate_options(s, cmd.sampling, cmd.max_new_tokens, cmd.stop);
  log_info("{}: {} prompt tokens, up to {} new, {}", s.dir.string(), ids.size(), options.max_new_tokens,
           s.runner->describe());

  auto on_text = [&](std::string_view text) {
    if (!cmd.json) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    check_interrupt();
  };
  const GenerateResult r = generate(*s.runner, s.tokenizer, ids, options, on_text);

  if (cmd.json) {
    nlohmann::ordered_json out;
    out["text"] = r.text;
    out["prompt_tokens"] = r.prompt_tokens;
    out["completion_tokens"] = r.completion_tokens;
    out["finish_reason"] = r.finish_reason;
    out["timings"] = {{"prefill_s", r.timings.prefill_s},
                      {"decode_s", r.timings.decode_s},
                      {"prefill_tokens_per_s", r.timings.prefill_tokens_per_s},
                      {"decode_tokens_per_s", r.timings.decode_tokens_per_s}};
    out["seed"] = options.sampling.seed;
    out["backend"] = s.runner->describe();
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    if (stdout_is_terminal() || !r.text.empty()) std::fputs("\n", stdout);
  }
  log_info("prefill {:.1f} tok/s, decode {:.1f} tok/s, finish: {}", r.timings.prefill_tokens_per_s,
           r.timings.decode_tokens_per_s, r.finish_reason);
  return 0;
}

}  // namespace awq
