#include "src/cli/session.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "src/bench/decode_traffic.h"
#include "src/cli/model_location.h"
#include "src/common/error.h"
#include "src/common/log.h"
#include "src/engine/cpu_runner.h"
#ifdef AWQRUN_HAVE_CUDA
#include "cuda/cuda_runner.h"
#include "cuda/device_info.h"
#endif

namespace awq {
namespace {

// --ctx and --fuse-max-seq-len both fix the KV cache's positions (the second
// under AutoAWQ's name); giving both with different values is an error.
int context_positions(const ModelFlags& f) {
  if (f.ctx > 0 && f.fuse_max_seq_len > 0 && f.ctx != f.fuse_max_seq_len)
    usage_error("--ctx {} and --fuse-max-seq-len {} disagree; give one of them", f.ctx, f.fuse_max_seq_len);
  return f.ctx > 0 ? f.ctx : f.fuse_max_seq_len;
}

// KV-cache slots for --parallel: the number given, else the device's
// automatic count, at most the batch's requests.
int sequences_wanted(const ModelFlags& f, int automatic) {
  if (f.parallel > 0) return f.parallel;
  return f.parallel_cap > 0 ? std::min(automatic, f.parallel_cap) : automatic;
}

// --parallel 0 on the CPU: 4 rows share each weight read (the int4 kernels
// take up to 4 tokens at once); SmolLM2, 2 threads, 16 requests: 23 tok/s
// one at a time, 40 at 4, 38 at 8 (docs/PERF.md).
constexpr int kAutoCpuSequences = 4;

// Unfused modules exist on the GPU only (the CPU engine always stacks q/k/v
// and gate/up, with identical results).
void refuse_gpu_only_flags(const ModelFlags& f) {
  if (f.no_fuse) usage_error("--no-fuse is a GPU option; use --device cuda or drop --no-fuse");
}

std::unique_ptr<ModelRunner> make_cpu(std::shared_ptr<const ModelWeights> weights, const ModelFlags& f) {
  refuse_gpu_only_flags(f);
  CpuRunnerOptions opt;
  opt.threads = f.threads;
  opt.max_context = context_positions(f);
  opt.dtype = f.dtype.empty() ? ActivationDType::Float32 : parse_activation_dtype(f.dtype);
  opt.lm_head = parse_lm_head_format(f.lm_head);
  opt.sequences = sequences_wanted(f, kAutoCpuSequences);
  return make_cpu_runner(std::move(weights), opt);
}

// What the GPU lacks: the int8 lm_head (it keeps the checkpoint's), float32
// activations, and bfloat16 with the exllama kernels (float16 only). A
// usage error in every build, before any device is touched.
void refuse_cpu_only_flags(const ModelFlags& f) {
  if (f.lm_head != "float16")
    usage_error("--lm-head {} is a CPU-only option (the GPU keeps the checkpoint's float16 lm_head); "
                "use --device cpu or drop --lm-head", f.lm_head);
  if (f.dtype == "float32")
    usage_error("--dtype float32 is not available on the GPU, which computes in float16 or bfloat16");
  if (f.dtype == "bfloat16" && f.version == "exllama")
    usage_error("--version exllama runs in float16 only; drop --dtype bfloat16 or pick another --version");
}

#ifdef AWQRUN_HAVE_CUDA
// --parallel 0 on a GPU: H200, Mistral-7B shape, 256 prompts of 128 tokens:
// 5.1k output tokens/s at 64 sequences, 8.9k at 256 (docs/PERF.md).
constexpr int kAutoGpuSequences = 256;

std::unique_ptr<ModelRunner> make_gpu(std::shared_ptr<const ModelWeights> weights, const ModelFlags& f, int device) {
  refuse_cpu_only_flags(f);
  CudaRunnerOptions opt;
  opt.device = device;
  opt.act = f.dtype == "bfloat16" ? cuda::Act::BF16 : cuda::Act::F16;
  opt.max_context = context_positions(f);
  opt.kernels = f.version == "gemm"      ? CudaKernelFamily::Gemm
                : f.version == "gemv"    ? CudaKernelFamily::Gemv
                : f.version == "exllama" ? CudaKernelFamily::Exllama
                                         : CudaKernelFamily::Auto;
  opt.sequences = sequences_wanted(f, kAutoGpuSequences);
  opt.fused = !f.no_fuse;
  return make_cuda_runner(std::move(weights), opt);
}
#endif

// "cuda" -> 0, "cuda:N" -> N; nullopt for anything that does not name a GPU.
std::optional<int> cuda_index(const std::string& device) {
  if (device == "cuda") return 0;
  if (device.rfind("cuda:", 0) != 0) return std::nullopt;
  const std::string n = device.substr(5);
  if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos)
    usage_error("--device {}: expected cuda:N with N a GPU number", device);
  return std::stoi(n);
}

std::unique_ptr<ModelRunner> make_runner(std::shared_ptr<const ModelWeights> weights, const ModelFlags& f) {
  const std::optional<int> gpu = cuda_index(f.device);
  if (!gpu && f.device != "auto" && f.device != "cpu")
    usage_error("--device must be auto, cpu, cuda or cuda:N, not {}", f.device);
  if (gpu) refuse_cpu_only_flags(f);  // a usage error, also in a build without CUDA
#ifdef AWQRUN_HAVE_CUDA
  if (gpu) return make_gpu(std::move(weights), f, *gpu);
  if (f.device == "auto") {
    // No usable GPU (none, no driver, too old) means the CPU; a GPU that is
    // there but too small for the model is reported by make_gpu instead.
    bool usable_gpu = true;
    try {
      cuda::select_device(0);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Device) throw;
      log_info("{}; running on the CPU", e.what());
      usable_gpu = false;
    }
    if (usable_gpu) return make_gpu(std::move(weights), f, 0);
  }
#else
  if (gpu)
    throw Error(ErrorKind::Device, "this build of awqrun has no CUDA backend",
                "use --device cpu, or rebuild on a machine with nvcc (meson setup -Dcuda=enabled)");
#endif
  return make_cpu(std::move(weights), f);
}

std::optional<ChatTemplate> load_chat_template(const std::filesystem::path& dir, const std::string& override_file) {
  std::optional<std::filesystem::path> override_path;
  if (!override_file.empty()) override_path = override_file;
  const std::optional<std::string> source = find_chat_template(dir, override_path);
  if (!source) return std::nullopt;
  return ChatTemplate::parse(*source, override_file.empty() ? (dir / "chat_template").string() : override_file);
}

uint64_t random_seed() {
  std::random_device rd;
  return (uint64_t(rd()) << 32) ^ uint64_t(rd());
}

}  // namespace

bool runs_on_gpu([[maybe_unused]] const ModelRunner& runner) {
#ifdef AWQRUN_HAVE_CUDA
  return dynamic_cast<const CudaRunner*>(&runner) != nullptr;
#else
  return false;
#endif
}

size_t kv_element_bytes(bool on_gpu, const std::string& dtype) {
  return on_gpu || (!dtype.empty() && dtype != "float32") ? 2 : 4;
}

Session load_session(const ModelFlags& flags, const std::string& chat_template_file) {
  const std::filesystem::path dir = resolve_model_dir(flags.model_dir);
  auto weights = std::make_shared<const ModelWeights>(load_model(dir));
  return Session{weights, Tokenizer::load(dir), nullptr, load_chat_template(dir, chat_template_file),
                 load_generation_defaults(dir), dir};
}

void start_runner(Session& s, const ModelFlags& flags) {
  const auto t0 = std::chrono::steady_clock::now();
  s.runner = make_runner(s.weights, flags);
  if (flags.fuse_max_seq_len > 0) {
    // As AutoAWQ's fused modules do, say what the preallocated cache costs (-v).
    const size_t element = kv_element_bytes(runs_on_gpu(*s.runner), flags.dtype);
    const double bytes = double(kv_bytes_per_position(s.weights->config, element)) * s.runner->max_context();
    log_info("KV cache preallocated for {} positions: {:.1f} MiB ({})", s.runner->max_context(), bytes / (1 << 20),
             s.runner->describe());
  }
  log_info("runner ready in {:.2f} s: {}, context {}",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), s.runner->describe(),
           s.runner->max_context());
}

Session open_session(const ModelFlags& flags, const std::string& chat_template_file) {
  const auto t0 = std::chrono::steady_clock::now();
  Session s = load_session(flags, chat_template_file);
  start_runner(s, flags);
  log_info("loaded {} in {:.2f} s", s.dir.string(),
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return s;
}

bool use_chat_template(const Session& s, const std::string& chat_mode) {
  if (chat_mode == "raw") return false;
  if (chat_mode == "chat" && !s.chat_template)
    throw Error(ErrorKind::Input,
                fmt::format("{} has no chat template (checked chat_template.jinja and tokenizer_config.json)",
                            s.dir.string()),
                "give one with --chat-template FILE, or use --raw");
  return s.chat_template.has_value();
}

std::string render_chat_messages(const Session& s, const nlohmann::ordered_json& messages) {
  if (!s.chat_template)
    throw Error(ErrorKind::Input, fmt::format("{} has no chat template to render chat messages", s.dir.string()),
                "give one with --chat-template FILE");
  ChatRequest request;
  request.messages = messages;
  request.add_generation_prompt = true;
  if (!s.tokenizer.bos_token().empty()) request.special_tokens["bos_token"] = s.tokenizer.bos_token();
  if (!s.tokenizer.eos_token().empty()) request.special_tokens["eos_token"] = s.tokenizer.eos_token();
  return s.chat_template->render_ordered(make_chat_context(request));
}

std::string render_chat_prompt(const Session& s, const std::string& user_text, const std::string& system) {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
  messages.push_back({{"role", "user"}, {"content", user_text}});
  return render_chat_messages(s, messages);
}

std::vector<int> encode_prompt(const Session& s, const std::string& text, bool templated) {
  return s.tokenizer.encode(text, !templated);
}

SamplingParams merge_sampling(const SamplingFlags& f, const GenerationDefaults& d) {
  SamplingParams p;
  const bool sample = f.temperature ? *f.temperature > 0 : d.do_sample.value_or(false);
  p.temperature = f.temperature ? *f.temperature : sample ? d.temperature.value_or(1.f) : 0.f;
  p.top_k = f.top_k.value_or(d.top_k.value_or(kBuiltinTopK));
  p.top_p = f.top_p.value_or(d.top_p.value_or(1.f));
  p.min_p = f.min_p.value_or(d.min_p.value_or(0.f));
  p.repeat_penalty = f.repeat_penalty.value_or(d.repetition_penalty.value_or(1.f));
  p.seed = f.seed ? *f.seed : random_seed();
  if (p.temperature <= 0 && (f.top_k || f.top_p || f.min_p))
    log_warn("--top-k/--top-p/--min-p have no effect with greedy decoding; add --temp T (T > 0) to sample");
  log_info("sampling: temperature {}, top-k {}, top-p {}, min-p {}, repeat-penalty {}, seed {}", p.temperature,
           p.top_k, p.top_p, p.min_p, p.repeat_penalty, p.seed);
  return p;
}

int merge_max_new_tokens(const std::optional<int>& flag, const GenerationDefaults& d) {
  return flag.value_or(d.max_new_tokens.value_or(kBuiltinMaxNewTokens));
}

GenerateOptions make_generate_options(const Session& s, const SamplingFlags& sampling,
                                      const std::optional<int>& max_new_tokens, const std::vector<std::string>& stop) {
  GenerateOptions opt;
  opt.sampling = merge_sampling(sampling, s.defaults);
  opt.max_new_tokens = merge_max_new_tokens(max_new_tokens, s.defaults);
  opt.stop = stop;
  opt.eos_ids = s.weights->config.eos_token_ids;
  for (int id : s.defaults.eos_token_ids)
    if (std::find(opt.eos_ids.begin(), opt.eos_ids.end(), id) == opt.eos_ids.end()) opt.eos_ids.push_back(id);
  return opt;
}

}  // namespace awq
