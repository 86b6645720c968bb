// prefill_slots and decode_rows: sequences in their own KV slots, prefilled
// in shared passes and decoding together, give what each gives alone in a
// one-sequence runner, on a tiny model (small heads:
// one attention launch per row) and on a Mistral-7B-shaped one (the rows-mode
// attention kernel; GEMV on 32-row pieces up to 64 rows; a row count's
// third step replays a captured graph). Rows come and go between steps, as
// in continuous batching.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "cuda/cuda_runner.h"
#include "cuda/device_info.h"
#include "tests/cuda/runner_test_util.h"

namespace awq {
namespace {

std::filesystem::path tiny_model_dir() {
  const char* env = std::getenv("AWQRUN_SOURCE_DIR");  // scripts/device_test runs from another checkout
  return std::filesystem::path(env ? env : AWQRUN_SOURCE_DIR) / "tests" / "data" / "engine" / "llama_gqa2";
}

// The batched and the lone runs take different kernels (packed prefill:
// dequantize + cuBLAS at ~1500 rows; decode: GEMV at m = rows vs m = 1), so
// rows differ by fp16 rounding, amplified by the peaked attention of random
// weights: typical rows ~2e-4, a few in a hundred up to ~1e-2 (prompts whose
// lone GPU run is as far from the float32 CPU engine). Now and then two
// attention scores tie within rounding and the row flips to another key:
// relative error up to ~sqrt(2) (H200: 2 rows in 6 runs of ~700; with and
// without programmatic dependent launch; the lone run alone is bit-identical
// to a fresh runner's, so the batch side is not reading stale state). A
// wrong row from a bookkeeping bug (stale token or position, another
// sequence's cache) hits every row of its pass or step, and the exact
// check of the order test below catches single ones. So: the typical row
// within 5e-3 and at most one row in 50 (at least 1) beyond 3e-2.
void check_errors(std::vector<double> errors, const std::string& what) {
  std::sort(errors.begin(), errors.end());
  const size_t beyond = size_t(errors.end() - std::upper_bound(errors.begin(), errors.end(), 3e-2));
  INFO(what << ": median relative error " << errors[errors.size() / 2] << ", max " << errors.back() << ", "
            << beyond << " of " << errors.size() << " rows beyond 3e-2");
  CHECK(errors[errors.size() / 2] < 5e-3);
  CHECK(beyond <= std::max<size_t>(1, errors.size() / 50));
}

// n random sequences: a prompt of 3-42 tokens each and `steps` decode tokens.
struct RandomSequences {
  std::vector<std::vector<int>> prompts, next;
};

RandomSequences random_sequences(std::mt19937& rng, int vocab, int n, int steps) {
  RandomSequences r{std::vector<std::vector<int>>(size_t(n)), std::vector<std::vector<int>>(size_t(n))};
  for (int s = 0; s < n; ++s) {
    r.prompts[size_t(s)].resize(3 + rng() % 40);
    for (int& t : r.prompts[size_t(s)]) t = int(rng() % unsigned(vocab));
    r.next[size_t(s)].resize(size_t(steps));
    for (int& t : r.next[size_t(s)]) t = int(rng() % unsigned(vocab));
  }
  return r;
}

void check_rows_match_single(std::shared_ptr<const ModelWeights> weights, int n_seqs, int steps,
                             CudaKernelFamily family = CudaKernelFamily::Auto) {
  const int vocab = weights->config.vocab_size;
  const auto [prompts, next] = random_sequences(test::rng(), vocab, n_seqs, steps);

  // Alone: slot 0 of a one-sequence runner, prefill then one token a step.
  CudaRunnerOptions opt;
  opt.max_context = 128;
  opt.kernels = family;
  std::vector<std::vector<float>> alone(static_cast<size_t>(n_seqs)), alone_prompt(static_cast<size_t>(n_seqs));
  {
    auto single = make_cuda_runner(weights, opt);
    std::vector<float> logits;
    for (int s = 0; s < n_seqs; ++s) {
      single->forward(prompts[s], 0, false, alone_prompt[s]);
      for (int k = 0; k < steps; ++k) {
        single->forward(std::span<const int>(&next[s][k], 1), int(prompts[s].size()) + k, false, logits);
        alone[s].insert(alone[s].end(), logits.begin(), logits.end());
      }
    }
  }

  opt.sequences = n_seqs;
  auto batch = make_cuda_runner(weights, opt);
  REQUIRE(batch->max_sequences() == n_seqs);
  // Sequence 0 through forward_slot, the others packed by prefill_slots.
  std::vector<float> logits;
  std::vector<int> ids;
  std::vector<double> errors;
  int mismatched_ids = 0;
  auto compare = [&](const std::vector<float>& got_rows, size_t i, const std::vector<float>& ref, int id) {
    const std::vector<float> got(got_rows.begin() + i * vocab, got_rows.begin() + (i + 1) * vocab);
    errors.push_back(test::row_error(got, ref, 0, vocab));
    mismatched_ids += id != int(std::max_element(got.begin(), got.end()) - got.begin());
  };
  const int id0 = batch->forward_slot(0, prompts[0], 0, &logits);
  compare(logits, 0, alone_prompt[0], id0);
  std::vector<SlotPrompt> packed;
  for (int s = 1; s < n_seqs; ++s) packed.push_back({s, prompts[s], 0});
  batch->prefill_slots(packed, ids, &logits);
  for (int s = 1; s < n_seqs; ++s) compare(logits, size_t(s - 1), alone_prompt[s], ids[s - 1]);
  check_errors(errors, "prefill of " + std::to_string(n_seqs) + " prompts");
  CHECK(mismatched_ids == 0);
  errors.clear();

  std::vector<int> done(static_cast<size_t>(n_seqs), 0);
  int max_rows = 0;
  for (int round = 0; *std::min_element(done.begin(), done.end()) < steps; ++round) {
    std::vector<DecodeRow> rows;
    std::vector<int> owner;
    for (int s = 0; s < n_seqs; ++s)
      if (done[s] < steps && (s + round) % 5 != 4) {  // every fifth sequence sits a step out
        rows.push_back({s, next[s][done[s]], int(prompts[s].size()) + done[s]});
        owner.push_back(s);
      }
    if (rows.empty()) continue;
    max_rows = std::max(max_rows, int(rows.size()));
    batch->decode_rows(rows, ids, &logits);
    for (size_t i = 0; i < rows.size(); ++i) {
      const int s = owner[i];
      const std::vector<float> ref(alone[s].begin() + size_t(done[s]) * vocab,
                                   alone[s].begin() + size_t(done[s] + 1) * vocab);
      compare(logits, i, ref, ids[i]);
      ++done[s];
    }
  }
  check_errors(errors, std::to_string(n_seqs) + " sequences, up to " + std::to_string(max_rows) + " rows a step");
  CHECK(mismatched_ids == 0);
}

// The logits of a fixed continuous-batching run: sequence 0 prefilled alone,
// the others packed, then decode steps where rows come and go (each row
// count's third occurrence replays a graph), then sequence 0 alone again
// through the single-token decode graph. Deterministic given `seed`.
struct BatchRun {
  std::vector<std::vector<float>> phases;  // prefill, each decode step, sequence 0's single-token steps
};

BatchRun run_batch(std::shared_ptr<const ModelWeights> weights, int n_seqs, int steps, uint32_t seed,
                   CudaKernelFamily family, bool fused) {
  const int vocab = weights->config.vocab_size;
  std::mt19937 gen(seed);
  const std::vector<std::vector<int>> prompts = random_sequences(gen, vocab, n_seqs, 0).prompts;
  CudaRunnerOptions opt;
  opt.max_context = 128;
  opt.kernels = family;
  opt.sequences = n_seqs;
  opt.fused = fused;
  auto runner = make_cuda_runner(weights, opt);
  BatchRun run;
  std::vector<float> logits;
  std::vector<int> ids;
  run.phases.emplace_back();
  runner->forward_slot(0, prompts[0], 0, &logits);
  run.phases.back().insert(run.phases.back().end(), logits.begin(), logits.end());
  std::vector<SlotPrompt> packed;
  for (int s = 1; s < n_seqs; ++s) packed.push_back({s, prompts[s], 0});
  runner->prefill_slots(packed, ids, &logits);
  run.phases.back().insert(run.phases.back().end(), logits.begin(), logits.end());
  std::vector<int> done(static_cast<size_t>(n_seqs), 0);
  for (int round = 0; *std::min_element(done.begin(), done.end()) < steps; ++round) {
    std::vector<DecodeRow> rows;
    for (int s = 0; s < n_seqs; ++s)
      if (done[s] < steps && (s + round) % 5 != 4)
        rows.push_back({s, int(gen() % unsigned(vocab)), int(prompts[s].size()) + done[s]++});
    if (rows.empty()) continue;
    runner->decode_rows(rows, ids, &logits);
    run.phases.push_back(logits);
  }
  // Sequence 0 alone again: single-token steps (the decode graph when fused).
  for (int k = 0; k < 3; ++k) {
    const int token = int(gen() % unsigned(vocab));
    runner->forward_slot(0, std::span<const int>(&token, 1), int(prompts[0].size()) + steps + k, &logits);
    run.phases.push_back(logits);
  }
  return run;
}

// Programmatic dependent launch changes when kernels start, never what they
// compute (no kernel's result depends on timing: split-K sums in split
// order), so a batch run with it must give the same bits as one with every
// launch fully ordered. A kernel that reads or writes before its pdl_wait,
// or a copy a PDL launch overtakes, shows up here as differing bits.
void check_pdl_bit_identical(std::shared_ptr<const ModelWeights> weights, int n_seqs, int steps,
                             CudaKernelFamily family, bool fused = true) {
  const uint32_t seed = test::rng()();
  INFO(n_seqs << " sequences, " << steps << " steps, " << (fused ? "fused" : "unfused") << ", seed " << seed);
  BatchRun ordered;
  {
    const cuda::ScopedPdlOff off;
    ordered = run_batch(weights, n_seqs, steps, seed, family, fused);
  }
  for (int repeat = 0; repeat < 3; ++repeat) {
    const BatchRun pdl = run_batch(weights, n_seqs, steps, seed, family, fused);
    REQUIRE(pdl.phases.size() == ordered.phases.size());
    for (size_t ph = 0; ph < pdl.phases.size(); ++ph) {
      const auto& a = pdl.phases[ph];
      const auto& b = ordered.phases[ph];
      REQUIRE(a.size() == b.size());
      const size_t rows = a.size() / size_t(weights->config.vocab_size);
      int differing = 0;
      double worst = 0;
      for (size_t r = 0; r < rows; ++r) {
        const size_t v = size_t(weights->config.vocab_size);
        if (std::memcmp(a.data() + r * v, b.data() + r * v, v * sizeof(float)) != 0) {
          ++differing;
          worst = std::max(worst, test::row_error(a, b, int(r), int(v)));
        }
      }
      INFO("repeat " << repeat << ", phase " << ph << " (0 = prefill): " << differing << " of " << rows
                     << " rows differ, worst relative difference " << worst);
      CHECK(differing == 0);
    }
  }
}

// Each sequence's logits from one batch run with sequence s in slot s,
// prompts packed in order and rows in order, or with the slots, the packing
// order and every step's row order shuffled by `shuffle_seed`. Every pass has
// the same row count either way (one packed prefill pass of all prompts, then
// steps of all sequences), so the kernels and their reduction orders are
// the same and each sequence must come out bit-identical.
std::vector<std::vector<float>> run_in_order(std::shared_ptr<const ModelWeights> weights,
                                             const std::vector<std::vector<int>>& prompts,
                                             const std::vector<std::vector<int>>& next, CudaKernelFamily family,
                                             uint32_t shuffle_seed) {
  const int n = int(prompts.size()), vocab = weights->config.vocab_size;
  std::mt19937 gen(shuffle_seed);
  std::vector<int> slot_of(static_cast<size_t>(n)), order(static_cast<size_t>(n));
  for (int s = 0; s < n; ++s) slot_of[s] = order[s] = s;
  if (shuffle_seed) std::shuffle(slot_of.begin(), slot_of.end(), gen);
  CudaRunnerOptions opt;
  opt.max_context = 128;
  opt.kernels = family;
  opt.sequences = n;
  auto runner = make_cuda_runner(weights, opt);
  std::vector<std::vector<float>> out(static_cast<size_t>(n));
  auto keep = [&](const std::vector<float>& rows, int i, int s) {
    out[s].insert(out[s].end(), rows.begin() + size_t(i) * vocab, rows.begin() + size_t(i + 1) * vocab);
  };
  std::vector<float> logits;
  std::vector<int> ids;
  if (shuffle_seed) std::shuffle(order.begin(), order.end(), gen);
  std::vector<SlotPrompt> packed;
  for (int s : order) packed.push_back({slot_of[s], prompts[s], 0});
  runner->prefill_slots(packed, ids, &logits);
  for (int i = 0; i < n; ++i) keep(logits, i, order[i]);
  for (size_t k = 0; k < next[0].size(); ++k) {
    if (shuffle_seed) std::shuffle(order.begin(), order.end(), gen);
    std::vector<DecodeRow> rows;
    for (int s : order) rows.push_back({slot_of[s], next[s][k], int(prompts[s].size() + k)});
    runner->decode_rows(rows, ids, &logits);
    for (int i = 0; i < n; ++i) keep(logits, i, order[i]);
  }
  return out;
}

void check_order_independent(std::shared_ptr<const ModelWeights> weights, int n_seqs, int steps,
                             CudaKernelFamily family) {
  const int vocab = weights->config.vocab_size;
  const auto [prompts, next] = random_sequences(test::rng(), vocab, n_seqs, steps);
  const auto in_order = run_in_order(weights, prompts, next, family, 0);
  const uint32_t shuffle_seed = test::rng()() | 1u;
  const auto shuffled = run_in_order(weights, prompts, next, family, shuffle_seed);
  INFO(n_seqs << " sequences, " << steps << " steps, shuffle seed " << shuffle_seed);
  int differing = 0;
  for (int s = 0; s < n_seqs; ++s)
    for (int k = 0; k <= steps; ++k)
      differing += std::memcmp(in_order[s].data() + size_t(k) * vocab, shuffled[s].data() + size_t(k) * vocab,
                               size_t(vocab) * sizeof(float)) != 0;
  CHECK(differing == 0);
}

}  // namespace

TEST_CASE("batch passes give the same bits with and without programmatic dependent launch", "[cuda][runner][rows][pdl]") {
  const test::TempSynthModel model("mistral-7b", 2);
  INFO("synthetic seed " << model.seed);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  check_pdl_bit_identical(weights, 70, 4, CudaKernelFamily::Auto);
  check_pdl_bit_identical(weights, 20, 4, CudaKernelFamily::Exllama);
  check_pdl_bit_identical(weights, 12, 3, CudaKernelFamily::Auto, false);
}

TEST_CASE("decode_rows matches each sequence decoded alone (tiny model, small heads)", "[cuda][runner][rows]") {
  auto weights = std::make_shared<const ModelWeights>(load_model(tiny_model_dir()));
  check_rows_match_single(weights, 6, 5);
}

TEST_CASE("decode_rows matches each sequence decoded alone (Mistral-7B shapes)", "[cuda][runner][rows][7b]") {
  const test::TempSynthModel model("mistral-7b", 2);
  INFO("synthetic seed " << model.seed);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  check_rows_match_single(weights, 5, 6);   // GEMV rows (T = 1), split-KV per row; 4-row steps replay a graph
  check_rows_match_single(weights, 24, 3);  // GEMV rows (T = 4)
  check_rows_match_single(weights, 70, 2);  // 32-row pieces, then the prefill rule above 64 rows
  check_rows_match_single(weights, 12, 2, CudaKernelFamily::Exllama);  // exllama GEMV on 8- and 4-row pieces
  check_rows_match_single(weights, 20, 2, CudaKernelFamily::Exllama);  // exllama dequantize + cuBLAS above 16 rows
}

TEST_CASE("batch results do not depend on the slots or the order of the sequences", "[cuda][runner][rows][order]") {
  const test::TempSynthModel model("mistral-7b", 2);
  INFO("synthetic seed " << model.seed);
  auto weights = std::make_shared<const ModelWeights>(load_model(model.dir));
  check_order_independent(weights, 24, 4, CudaKernelFamily::Auto);     // one 24-row GEMV piece a step
  check_order_independent(weights, 24, 4, CudaKernelFamily::Exllama);  // exllama: dequantize + cuBLAS a step
}

}  // namespace awq

