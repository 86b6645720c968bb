// awq-gguf-convert GGUF OUTDIR [--group-size N] [--no-quantize]
// Turns a llama.cpp GGUF of a Llama-architecture model into a Hugging Face
// AWQ checkpoint folder that awqrun loads. Errors: one line on stderr and the
// exit codes of awqrun (3 bad input, 2 bad usage, 1 anything else).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <new>

#include "src/common/error.h"
#include "src/common/log.h"
#include "tools/gguf_convert/converter.h"

namespace {

int fail(const char* message, awq::ErrorKind kind) {
  std::fprintf(stderr, "awq-gguf-convert: error: %s\n", message);
  return awq::exit_code(kind);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Convert a llama.cpp GGUF (arch llama, byte-level BPE tokenizer) to an AWQ checkpoint folder"};
  std::string gguf, out_dir;
  awq::ConvertOptions options;
  bool no_quantize = false, verbose = false;
  app.add_option("gguf", gguf, "Input GGUF file")->required()->check(CLI::ExistingFile);
  app.add_option("outdir", out_dir, "Output folder (created if missing)")->required();
  app.add_option("--group-size", options.group_size, "AWQ group size (input channels per scale)")
      ->capture_default_str()->type_name("N");
  app.add_flag("--no-quantize", no_quantize, "Write plain fp16 weights instead of AWQ (for verification)");
  app.add_flag("-v,--verbose", verbose, "Log every tensor");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  options.quantize = !no_quantize;
  awq::set_log_level(verbose ? awq::LogLevel::Info : awq::LogLevel::Warn);
  try {
    awq::convert_gguf(gguf, out_dir, options);
    return 0;
  } catch (const awq::Error& e) {
    return fail(e.what(), e.kind());
  } catch (const std::bad_alloc&) {
    return fail("out of memory", awq::ErrorKind::Runtime);
  } catch (const std::exception& e) {
    return fail(e.what(), awq::ErrorKind::Runtime);
  }
}
