// awqrun perplexity: exp(mean negative log-likelihood) of a text file, with
// Hugging Face's strided windows (see src/engine/perplexity.h).
#include <cstdio>
#include <fstream>
#include <iterator>

#include "src/cli/commands.h"
#include "src/cli/interrupt.h"
#include "src/cli/session.h"
#include "src/common/error.h"
#include "src/common/log.h"
#include "src/engine/perplexity.h"

namespace awq {

int run_perplexity(const PerplexityCommand& cmd) {
  std::ifstream f(cmd.file, std::ios::binary);
  if (!f) input_error("cannot read {}", cmd.file);
  const std::string text{std::istreambuf_iterator<char>(f), {}};
  Session s = open_session(cmd.model, "");
  const std::vector<int> ids = s.tokenizer.encode(text, true);
  PerplexityOptions o;
  o.ctx = cmd.ctx;
  o.stride = cmd.stride;
  o.one_token_passes = cmd.decode;
  const PerplexityResult r = perplexity(*s.runner, ids, o, [](int done, int total, double ppl) {
    log_info("window {}/{}: ppl {:.4f}", done, total, ppl);
    check_interrupt();
  });
  std::printf("perplexity %.4f over %d tokens (window %d, stride %d%s, %.1f s)\n", r.ppl, r.tokens, o.ctx,
              o.stride ? o.stride : o.ctx, o.one_token_passes ? ", one token per pass" : "", r.seconds);
  return 0;
}

}  // namespace awq
