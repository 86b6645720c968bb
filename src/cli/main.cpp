// awqrun entry point: parse the command line, dispatch, and turn every error
// into one line on stderr plus the exit code documented in README.md.
#include <cstdio>
#include <exception>
#include <new>

#include "src/cli/commands.h"
#include "src/cli/interrupt.h"
#include "src/cli/options.h"
#include "src/common/error.h"
#include "src/common/log.h"

namespace {

void print_error(const char* message, const std::string& hint = {}) {
  std::fflush(stdout);
  std::fprintf(stderr, "awqrun: error: %s\n", message);
  if (!hint.empty()) std::fprintf(stderr, "awqrun: hint: %s\n", hint.c_str());
}

int dispatch(const awq::CommandLine& cl) {
  using Kind = awq::CommandLine::Kind;
  switch (cl.kind) {
    case Kind::Run: return awq::run_generate(cl.run);
    case Kind::Batch: return awq::run_batch(cl.batch);
    case Kind::Chat: return awq::run_chat(cl.chat);
    case Kind::Inspect: return awq::run_inspect(cl.inspect);
    case Kind::Tokenize: return awq::run_tokenize(cl.tokenize);
    case Kind::Perplexity: return awq::run_perplexity(cl.perplexity);
    case Kind::Bench: return awq::run_bench(cl.bench);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto cl = awq::parse_command_line(argc, argv);
    if (!cl) return 0;  // --help or -V
    awq::set_log_level(cl->verbosity < 0   ? awq::LogLevel::Error
                       : cl->verbosity == 0 ? awq::LogLevel::Warn
                       : cl->verbosity == 1 ? awq::LogLevel::Info
                                            : awq::LogLevel::Debug);
    awq::install_interrupt_handler();
    return dispatch(*cl);
  } catch (const awq::Interrupted&) {
    std::fflush(stdout);
    std::fputs("\n", stderr);
    return awq::kExitInterrupted;
  } catch (const awq::Error& e) {
    print_error(e.what(), e.hint());
    return awq::exit_code(e.kind());
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
    return awq::exit_code(awq::ErrorKind::Runtime);
  } catch (const std::exception& e) {
    print_error(e.what());
    return awq::exit_code(awq::ErrorKind::Runtime);
  }
}
