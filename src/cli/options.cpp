#include "src/cli/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <set>

#include "src/common/error.h"

#ifndef AWQRUN_VERSION
#define AWQRUN_VERSION "unknown"
#endif

namespace awq {
namespace {

const std::set<std::string> kSubcommands = {"run", "batch", "chat", "inspect", "tokenize", "perplexity", "bench"};

void add_model_dir(CLI::App& app, std::string& dir) {
  app.add_option("-m,--model", dir, "Model directory (Hugging Face AWQ checkpoint); default: the bundled SmolLM2")
      ->type_name("DIR");
}

void add_model_flags(CLI::App& app, ModelFlags& f) {
  add_model_dir(app, f.model_dir);
  app.add_option("--device", f.device, "auto, cpu, cuda or cuda:N (auto: the first GPU when there is one)")
      ->capture_default_str();
  app.add_option("--dtype", f.dtype, "Activation dtype: float16, bfloat16 or float32 (default: float16 on GPU, float32 on CPU)")
      ->check(CLI::IsMember({"float16", "bfloat16", "float32"}));
  app.add_option("--version", f.version, "GPU kernel family: auto, gemm, gemv or exllama")
      ->check(CLI::IsMember({"auto", "gemm", "gemv", "exllama"}))
      ->capture_default_str();
  app.add_option("--fuse-max-seq-len", f.fuse_max_seq_len,
                 "KV cache preallocated for N positions, its size printed at load (AutoAWQ's name for --ctx)")
      ->check(CLI::NonNegativeNumber)->type_name("N");
  app.add_flag("--no-fuse", f.no_fuse,
               "GPU: unfused modules (separate q/k/v and gate/up products, no CUDA graph), for comparison");
  app.add_option("-t,--threads", f.threads, "CPU threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("-c,--ctx", f.ctx, "Context (KV-cache) length in tokens (0: the model's, capped at 8192)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lm-head", f.lm_head,
                 "CPU lm_head weights: float16 (as stored, exact) or int8 (faster decode, approximate logits)")
      ->check(CLI::IsMember({"float16", "int8"}))
      ->capture_default_str();
}

void add_sampling_flags(CLI::App& app, SamplingFlags& s) {
  app.add_option("--temp", s.temperature, "Temperature (0: greedy); default from generation_config.json")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--top-k", s.top_k, "Keep the K most likely tokens (0: off)")->check(CLI::NonNegativeNumber);
  app.add_option("--top-p", s.top_p, "Nucleus sampling threshold (1: off)")->check(CLI::Range(0.0, 1.0));
  app.add_option("--min-p", s.min_p, "Drop tokens below min-p x the top probability (0: off)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1: off)")->check(CLI::PositiveNumber);
  app.add_option("--seed", s.seed, "Random seed; the same seed gives the same text");
}

void add_prompt_flags(CLI::App& app, std::string& prompt, std::string& file) {
  app.add_option("-p,--prompt", prompt, "Prompt text (piped stdin, if any, comes first)")->type_name("TEXT");
  app.add_option("-f,--file", file, "Read the prompt from FILE")->type_name("FILE");
}

void add_length_flags(CLI::App& app, std::optional<int>& max_new_tokens, std::vector<std::string>& stop) {
  app.add_option("-n,--max-new-tokens", max_new_tokens,
                 "Tokens to generate at most (default from generation_config.json, else 256)")
      ->check(CLI::PositiveNumber);
  app.add_option("--stop", stop, "Stop when this text appears (repeatable); it is not printed")->type_name("TEXT");
}

void add_chat_mode_flags(CLI::App& app, std::string& chat_mode) {
  auto* chat = app.add_flag_callback("--chat", [&chat_mode] { chat_mode = "chat"; },
                                     "Apply the model's chat template (the default when the model has one)");
  auto* raw = app.add_flag_callback("--raw", [&chat_mode] { chat_mode = "raw"; },
                                    "Feed the prompt as is, no chat template");
  chat->excludes(raw);
}

void add_template_flags(CLI::App& app, std::string& system, std::string& chat_template_file) {
  app.add_option("--system", system, "System message for the chat template")->type_name("TEXT");
  app.add_option("--chat-template", chat_template_file, "Jinja chat template file overriding the model's")
      ->type_name("FILE");
}

// CLI11 wants the subcommand first; `awqrun -p hi` is short for `awqrun run -p hi`.
// The log flags may come first (`awqrun -v batch ...`) and, through
// fallthrough, anywhere after the subcommand too.
std::vector<std::string> with_default_subcommand(int argc, char** argv) {
  static const std::set<std::string> kLogFlags = {"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet"};
  std::vector<std::string> args(argv + 1, argv + argc);
  const auto first = std::find_if(args.begin(), args.end(), [](const std::string& a) { return !kLogFlags.count(a); });
  const bool top_level_flag = first != args.end() && (*first == "-h" || *first == "--help" || *first == "-V");
  if (first == args.end() || (!kSubcommands.count(*first) && !top_level_flag)) args.insert(args.begin(), "run");
  return args;
}

}  // namespace

std::optional<CommandLine> parse_command_line(int argc, char** argv) {
  CommandLine cl;
  CLI::App app{"awqrun: run AWQ 4-bit quantized LLMs (Hugging Face checkpoints) on CPU or GPU", "awqrun"};
  app.set_version_flag("-V", std::string("awqrun ") + AWQRUN_VERSION, "Print the program's version");
  app.require_subcommand(1);
  app.fallthrough();  // -v / -q after the subcommand: `awqrun batch -i f -o g -v`
  int verbose = 0;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "More log lines on stderr (-vv: debug)");
  app.add_flag("-q,--quiet", quiet, "Only errors on stderr");

  auto* run = app.add_subcommand("run", "Generate text from a prompt (the default command)");
  RunCommand& r = cl.run;
  add_model_flags(*run, r.model);
  add_prompt_flags(*run, r.prompt, r.prompt_file);
  add_length_flags(*run, r.max_new_tokens, r.stop);
  add_sampling_flags(*run, r.sampling);
  add_chat_mode_flags(*run, r.chat_mode);
  add_template_flags(*run, r.system, r.chat_template_file);
  run->add_flag("--json", r.json, "Print one JSON object (text, token counts, finish_reason, timings) instead of streaming");

  auto* batch = app.add_subcommand("batch", "Generate for every request of a JSONL or text file, results to JSONL");
  BatchCommand& b = cl.batch;
  add_model_flags(*batch, b.model);
  batch->add_option("-i,--input", b.input, "Requests: JSONL (one object a line) or text (one prompt a line); -: stdin")
      ->required()->type_name("FILE");
  batch->add_option("-o,--output", b.output,
                    "Results, one JSON line per request in input order; an existing file is resumed; -: stdout")
      ->required()->type_name("FILE");
  batch->add_option("--input-format", b.input_format, "auto (by extension, else by content), jsonl or text")
      ->check(CLI::IsMember({"auto", "jsonl", "text"}))->capture_default_str();
  add_length_flags(*batch, b.max_new_tokens, b.stop);
  add_sampling_flags(*batch, b.sampling);
  add_chat_mode_flags(*batch, b.chat_mode);
  add_template_flags(*batch, b.system, b.chat_template_file);
  b.model.parallel = 0;
  batch->add_option("--parallel", b.model.parallel,
                    "Requests generated together (continuous batching); 0: 4 on the CPU, up to 256 on a GPU "
                    "(as many KV caches of --ctx positions as fit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  batch->add_flag("--ignore-eos", b.ignore_eos, "Do not stop at an eos token: every request gets its max new tokens");

  auto* chat = app.add_subcommand("chat", "Interactive chat with the model's template (/reset, /exit)");
  ChatCommand& c = cl.chat;
  add_model_flags(*chat, c.model);
  add_length_flags(*chat, c.max_new_tokens, c.stop);
  add_sampling_flags(*chat, c.sampling);
  add_template_flags(*chat, c.system, c.chat_template_file);

  auto* inspect = app.add_subcommand("inspect", "Describe a checkpoint: architecture, quantization, tensors, memory");
  add_model_dir(*inspect, cl.inspect.model_dir);

  auto* tokenize = app.add_subcommand("tokenize", "Show how text is tokenized (for debugging)");
  TokenizeCommand& t = cl.tokenize;
  add_model_dir(*tokenize, t.model_dir);
  add_prompt_flags(*tokenize, t.prompt, t.prompt_file);
  tokenize->add_flag("--ids", t.ids, "Print ids only, one line");
  tokenize->add_flag("--pieces", t.pieces, "Print token strings only, one line");
  tokenize->add_flag("--no-special", t.no_special, "Do not add BOS/EOS");

  auto* ppl = app.add_subcommand("perplexity", "Perplexity of the model over a text file");
  PerplexityCommand& pc = cl.perplexity;
  add_model_flags(*ppl, pc.model);
  ppl->add_option("-f,--file", pc.file, "Text file")->required()->type_name("FILE");
  ppl->add_option("--window", pc.ctx, "Tokens per evaluation window")->check(CLI::PositiveNumber)->capture_default_str();
  ppl->add_option("--stride", pc.stride, "Tokens the window advances (0: the window, i.e. disjoint windows)")->check(CLI::NonNegativeNumber);
  ppl->add_flag("--decode", pc.decode, "Score through the decode kernels: one token per pass instead of one pass per window");

  auto* bench = app.add_subcommand("bench", "Prefill and decode speed per length (AutoAWQ's benchmark table)");
  BenchCommand& bc = cl.bench;
  add_model_flags(*bench, bc.model);
  bench->add_option("--batch", bc.batch, "Batch size (only 1 today)")->check(CLI::PositiveNumber)->capture_default_str();
  bench->add_option("--lengths", bc.lengths, "Comma-separated lengths L: a prefill of L tokens, then L decode steps")
      ->type_name("L,L,...")->capture_default_str();
  bench->add_option("--reps", bc.reps, "Timed repetitions per length (medians are reported)")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  bench->add_flag("--json", bc.json, "Print the header and rows as one JSON object instead of the table");

  std::vector<std::string> args = with_default_subcommand(argc, argv);
  std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return std::nullopt;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return std::nullopt;
  } catch (const CLI::CallForVersion& v) {
    std::printf("%s\n", v.what());
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    usage_error("{} (see awqrun --help)", e.what());
  }
  // Help of a subcommand: CLI11 raises CallForHelp from inside parse for `run -h` too.
  if (batch->parsed()) cl.kind = CommandLine::Kind::Batch;
  else if (chat->parsed()) cl.kind = CommandLine::Kind::Chat;
  else if (inspect->parsed()) cl.kind = CommandLine::Kind::Inspect;
  else if (tokenize->parsed()) cl.kind = CommandLine::Kind::Tokenize;
  else if (ppl->parsed()) cl.kind = CommandLine::Kind::Perplexity;
  else if (bench->parsed()) cl.kind = CommandLine::Kind::Bench;
  cl.verbosity = quiet ? -1 : verbose;
  return cl;
}

}  // namespace awq
