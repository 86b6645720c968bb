// awqrun batch -i requests.jsonl -o results.jsonl: every request of the file
// through the model, one result line per request in input order, resumable.
// File formats: src/batch/batch_input.h (input), src/batch/batch_result.h (output).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unordered_map>

#include "src/batch/batch_input.h"
#include "src/batch/batch_loop.h"
#include "src/batch/continuous_batch.h"
#include "src/batch/progress_display.h"
#include "src/batch/request_generation.h"
#include "src/batch/resume.h"
#include "src/cli/commands.h"
#include "src/cli/interrupt.h"
#include "src/cli/session.h"
#include "src/common/error.h"
#include "src/common/log.h"

namespace awq {
namespace {

// Prompt ids of one request. Chat lists always go through the template;
// plain prompts only in chat mode. --system is prepended to a chat list that
// has no system message of its own.
std::vector<int> request_prompt_ids(const Session& s, const BatchRequest& r, bool templated,
                                    const std::string& system) {
  if (!r.messages.is_null()) {
    nlohmann::ordered_json messages = r.messages;
    if (!system.empty() && messages[0].value("role", "") != "system") {
      const nlohmann::ordered_json system_message = {{"role", "system"}, {"content", system}};
      messages.insert(messages.begin(), system_message);
    }
    return encode_prompt(s, render_chat_messages(s, messages), true);
  }
  if (!templated) return encode_prompt(s, r.prompt, false);
  return encode_prompt(s, render_chat_prompt(s, r.prompt, system), true);
}

// Every pending request's prompt ids and settings, built before the runner
// exists: without --ctx (or --fuse-max-seq-len) the KV cache is then sized
// for the longest request, prompt + new tokens, instead of the model's whole
// context, so that many more sequences fit beside each other on a GPU.
struct PreparedBatch {
  std::unordered_map<size_t, PreparedRequest> ready;  // by request index
  std::unordered_map<size_t, std::string> failed;     // the error of a request that cannot be built
  int longest = 0;
};

PreparedBatch prepare_batch(const std::vector<BatchRequest>& requests,
                            const std::function<PreparedRequest(const BatchRequest&)>& build) {
  PreparedBatch b;
  for (const BatchRequest& r : requests) {
    if (!r.error.empty()) continue;  // a malformed line: its result is its parse error
    try {
      PreparedRequest p = build(r);
      b.longest = std::max(b.longest, int(p.prompt_ids.size()) + p.options.max_new_tokens);
      b.ready.emplace(r.index, std::move(p));
    } catch (const std::exception& e) {
      b.failed.emplace(r.index, e.what());
    }
  }
  return b;
}

// --ctx when the user gave none: the longest request, within the model's limit.
ModelFlags size_context(ModelFlags flags, const PreparedBatch& batch, const ModelConfig& config) {
  if (flags.ctx > 0 || flags.fuse_max_seq_len > 0 || batch.longest == 0) return flags;
  flags.ctx = config.max_position_embeddings > 0 ? std::min(batch.longest, config.max_position_embeddings)
                                                 : batch.longest;
  log_info("batch: KV cache of {} positions per sequence, the longest request (--ctx sets it)", flags.ctx);
  return flags;
}

void refuse_same_file(const std::string& input, const std::string& output) {
  std::error_code ec;
  if (input != "-" && output != "-" && std::filesystem::equivalent(input, output, ec))
    usage_error("-o {} is the input file; results need a file of their own", output);
}

}  // namespace

int run_batch(const BatchCommand& cmd) {
  refuse_same_file(cmd.input, cmd.output);
  // The input is read and checked before the model loads: a wrong path fails at once.
  const std::string content = read_batch_file(cmd.input);
  const InputFormat format = parse_input_format(cmd.input_format, cmd.input, content);
  const bool to_stdout = cmd.output == "-";
  const ResumeState resume = to_stdout ? ResumeState{} : prepare_resume(cmd.output);
  RequestQueue queue(parse_batch_input(content, format), resume);
  log_info("batch: {} requests ({}), {} already done", queue.remaining() + queue.skipped(),
           format == InputFormat::Jsonl ? "JSONL" : "text, one prompt a line", queue.skipped());

  BatchProgress progress;
  if (queue.remaining() > 0) {
    // Opened first, so that an unwritable -o fails before the model loads.
    const auto sink = to_stdout ? std::make_unique<FdLineSink>() : std::make_unique<FdLineSink>(cmd.output, true);
    OrderedResultWriter writer(*sink, queue.order());
    Session s = load_session(cmd.model, cmd.chat_template_file);
    const bool templated = use_chat_template(s, cmd.chat_mode);
    if (!templated && !cmd.system.empty()) log_warn("--system is used only with the chat template (not with --raw)");
    GenerateOptions base = make_generate_options(s, cmd.sampling, cmd.max_new_tokens, cmd.stop);
    if (cmd.ignore_eos) base.eos_ids.clear();
    PreparedBatch batch = prepare_batch(queue.pending(), [&](const BatchRequest& r) {
      return PreparedRequest{request_prompt_ids(s, r, templated, cmd.system),
                             options_for_request(base, r.overrides, r.index)};
    });
    ModelFlags flags = size_context(cmd.model, batch, s.weights->config);
    flags.parallel_cap = int(std::min<size_t>(queue.remaining(), size_t(1) << 20));
    start_runner(s, flags);
    if (cmd.model.parallel > s.runner->max_sequences())
      log_warn("batch: --parallel {}: the KV caches of {} sequences fit; a smaller --ctx fits more",
               cmd.model.parallel, s.runner->max_sequences());
    const RequestPreparer prepare = [&](const BatchRequest& r) {
      if (auto it = batch.failed.find(r.index); it != batch.failed.end()) input_error("{}", it->second);
      auto node = batch.ready.extract(r.index);
      if (node.empty()) runtime_error("batch: request {} was not prepared", r.index);
      return std::move(node.mapped());
    };
    const RequestHandler handle = [&](const BatchRequest& r) {
      check_interrupt();
      const PreparedRequest p = prepare(r);
      return generate_request(*s.runner, s.tokenizer, p.prompt_ids, p.options, check_interrupt);
    };

    ProgressDisplay display(queue.remaining(), queue.skipped(),
                            ::isatty(STDERR_FILENO) == 1 && log_level() <= LogLevel::Warn);
    const ProgressCallback on_progress = [&](const BatchProgress& p) { display.update(p); };
    const int parallel = s.runner->max_sequences();
    log_info("batch: {}", parallel > 1 ? fmt::format("continuous batching of up to {} requests", parallel)
                                       : std::string("one request at a time"));
    const auto t0 = std::chrono::steady_clock::now();
    try {
      progress = parallel > 1
                     ? run_continuous(queue, writer, *s.runner, s.tokenizer, prepare, check_interrupt, on_progress)
                     : run_one_by_one(queue, writer, handle, on_progress);
    } catch (...) {
      display.finish();
      throw;
    }
    display.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log_info("batch: {} requests, {} generated tokens in {:.2f} s: {:.1f} tokens/s", progress.done,
             progress.completion_tokens, seconds, seconds > 0 ? double(progress.completion_tokens) / seconds : 0.0);
  }

  const size_t failed = progress.failed + resume.error_lines;
  if (failed > 0)
    log_warn("batch: {} of {} requests failed; their lines in {} carry \"error\"", failed,
             progress.total + queue.skipped(), to_stdout ? "the output" : cmd.output);
  else
    log_info("batch: all {} requests done", progress.total + queue.skipped());
  return failed > 0 ? kExitSomeRequestsFailed : 0;
}

}  // namespace awq
