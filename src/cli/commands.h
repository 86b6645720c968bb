// One function per subcommand; each returns the process exit code.
#pragma once
#include "src/cli/options.h"

namespace awq {

// Exit code of `batch` when it finished but some requests have an error line.
inline constexpr int kExitSomeRequestsFailed = 5;

int run_generate(const RunCommand& cmd);
int run_batch(const BatchCommand& cmd);
int run_chat(const ChatCommand& cmd);
int run_inspect(const InspectCommand& cmd);
int run_tokenize(const TokenizeCommand& cmd);
int run_perplexity(const PerplexityCommand& cmd);
int run_bench(const BenchCommand& cmd);

}  // namespace awq
