// awq-cpu-bench: prefill and decode speed of the CPU runner on a model
// directory, as one JSON line on stdout (read by scripts/bench_cpu.py).
//   awq-cpu-bench DIR [--threads N] [--prompt P] [--gen G] [--reps R] [--dtype D] [--simd L]
//                     [--lm-head float16|int8]
// Token ids are fixed pseudo-random values: speed does not depend on them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <string>

#include "src/common/error.h"
#include "src/engine/cpu_runner.h"

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

awq::SimdLevel parse_simd(const std::string& s) {
  if (s == "scalar") return awq::SimdLevel::Scalar;
  if (s == "avx2") return awq::SimdLevel::Avx2;
  if (s == "avx512") return awq::SimdLevel::Avx512;
  awq::usage_error("--simd must be scalar, avx2 or avx512, not \"{}\"", s);
}

int run(int argc, char** argv) {
  if (argc < 2) awq::usage_error("usage: awq-cpu-bench DIR [--threads N] [--prompt P] [--gen G] [--reps R] "
                                 "[--dtype float32|float16|bfloat16] [--simd scalar|avx2|avx512] "
                                 "[--lm-head float16|int8]");
  const std::string dir = argv[1];
  awq::CpuRunnerOptions opt;
  int prompt = 128, gen = 64, reps = 3;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 == argc) awq::usage_error("{} needs a value", argv[i]);
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--threads") opt.threads = std::stoi(value);
    else if (key == "--prompt") prompt = std::stoi(value);
    else if (key == "--gen") gen = std::stoi(value);
    else if (key == "--reps") reps = std::stoi(value);
    else if (key == "--dtype") opt.dtype = awq::parse_activation_dtype(value);
    else if (key == "--simd") opt.simd = parse_simd(value);
    else if (key == "--lm-head") opt.lm_head = awq::parse_lm_head_format(value);
    else awq::usage_error("unknown option {}", key);
  }
  opt.max_context = prompt + gen + 1;
  double t = now_s();
  auto weights = std::make_shared<const awq::ModelWeights>(awq::load_model(dir));
  auto runner = awq::make_cpu_runner(weights, opt);
  const double load_s = now_s() - t;
  const int vocab = weights->config.vocab_size;
  std::vector<int> ids(static_cast<size_t>(prompt));
  uint32_t state = 12345;
  for (int& id : ids) id = int((state = state * 1664525u + 1013904223u) >> 8) % vocab;
  std::vector<float> logits;
  double best_prefill = 1e30, best_decode = 1e30;
  for (int r = 0; r < reps; ++r) {
    t = now_s();
    runner->forward(ids, 0, false, logits);
    best_prefill = std::min(best_prefill, now_s() - t);
    t = now_s();
    for (int i = 0; i < gen; ++i) {
      const int next = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
      runner->forward(std::span<const int>(&next, 1), prompt + i, false, logits);
    }
    best_decode = std::min(best_decode, now_s() - t);
  }
  fmt::print("{{\"runner\": \"{}\", \"load_s\": {:.3f}, \"prompt_tokens\": {}, \"gen_tokens\": {}, "
             "\"prefill_tok_s\": {:.2f}, \"decode_tok_s\": {:.2f}}}\n",
             runner->describe(), load_s, prompt, gen, prompt / best_prefill, gen / best_decode);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const awq::Error& e) {
    std::fprintf(stderr, "awq-cpu-bench: %s\n", e.what());
    return awq::exit_code(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "awq-cpu-bench: %s\n", e.what());
    return 1;
  }
}
