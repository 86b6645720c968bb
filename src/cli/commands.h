// One function per subcommand; each returns the process exit code.
#pragma once
#include "src/cli/options.h"

namespace awq {

int run_generate(const RunCommand& cmd);
int run_inspect(const InspectCommand& cmd);
int run_tokenize(const TokenizeCommand& cmd);
int run_perplexity(const PerplexityCommand& cmd);

}  // namespace awq
