// Every command-line flag of awqrun, declared in one place (options.cpp), so
// that --help, the README's flag table and the behaviour cannot drift apart.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace awq {

// How and where the model runs (shared by run, perplexity, bench, batch).
struct ModelFlags {
  std::string model_dir;          // -m; empty: the default model
  std::string device = "auto";    // auto | cpu | cuda | cuda:N
  std::string dtype;              // float16 | bfloat16 | float32; empty: per device
  std::string version = "auto";   // kernel family: auto | gemm | gemv | exllama
  int fuse_max_seq_len = 0;       // KV-cache positions under AutoAWQ's name (modules are fused unless no_fuse)
  bool no_fuse = false;           // GPU: separate q/k/v and gate/up modules, no CUDA graph (the bench baseline)
  int threads = 0;                // CPU threads; 0: all cores
  int ctx = 0;                    // KV-cache positions; 0: model's maximum (capped)
  std::string lm_head = "float16";  // CPU lm_head weights: float16 (as stored, exact) | int8 (fast, approximate)
  int parallel = 1;               // sequences generated together (batch --parallel); 0: auto per device
  int parallel_cap = 0;           // with parallel 0: at most this many (batch: its request count); 0: no cap
};

struct SamplingFlags {
  std::optional<float> temperature, top_p, min_p, repeat_penalty;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
};

struct RunCommand {
  ModelFlags model;
  SamplingFlags sampling;
  std::string prompt;        // -p
  std::string prompt_file;   // -f
  std::optional<int> max_new_tokens;  // -n; default from generation_config.json, else 256
  std::vector<std::string> stop;
  std::string chat_mode = "auto";  // auto (template when the model has one) | chat | raw
  std::string system;
  std::string chat_template_file;
  bool json = false;
};

// awqrun batch: requests from a JSONL or text file, results to a JSONL file.
struct BatchCommand {
  ModelFlags model;
  SamplingFlags sampling;
  std::string input;                  // -i FILE ("-": stdin)
  std::string output;                 // -o FILE ("-": stdout, no resume)
  std::string input_format = "auto";  // auto | jsonl | text (see src/batch/batch_input.h)
  std::optional<int> max_new_tokens;
  std::vector<std::string> stop;
  std::string chat_mode = "auto";
  std::string system;
  std::string chat_template_file;
  bool ignore_eos = false;  // generate max_new_tokens even past an eos id (throughput measurements)
};

// awqrun chat: an interactive conversation (only when asked for).
struct ChatCommand {
  ModelFlags model;
  SamplingFlags sampling;
  std::optional<int> max_new_tokens;
  std::vector<std::string> stop;
  std::string system;
  std::string chat_template_file;
};

struct InspectCommand {
  std::string model_dir;
};

struct TokenizeCommand {
  std::string model_dir;
  std::string prompt, prompt_file;
  bool ids = false, pieces = false;
  bool no_special = false;
};

struct PerplexityCommand {
  ModelFlags model;
  std::string file;
  int ctx = 512;
  int stride = 0;  // 0: ctx (disjoint windows)
  bool decode = false;  // one token per pass (PerplexityOptions::one_token_passes)
};

// awqrun bench: prefill and decode speed per length, as AutoAWQ's examples/benchmark.py.
struct BenchCommand {
  ModelFlags model;
  int batch = 1;
  std::string lengths = "32,64,128,256,512,1024,2048";
  int reps = 3;
  bool json = false;
};

struct CommandLine {
  enum class Kind { Run, Batch, Chat, Inspect, Tokenize, Perplexity, Bench } kind = Kind::Run;
  RunCommand run;
  BatchCommand batch;
  ChatCommand chat;
  InspectCommand inspect;
  TokenizeCommand tokenize;
  PerplexityCommand perplexity;
  BenchCommand bench;
  int verbosity = 0;  // -v: info, -vv: debug; --quiet: -1 (errors only)
};

// Parses argv. `awqrun -p ...` means `awqrun run -p ...`. --help and --version
// print to stdout and return nullopt (exit 0); bad flags throw Error(Usage).
std::optional<CommandLine> parse_command_line(int argc, char** argv);

}  // namespace awq
