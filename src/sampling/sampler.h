// Token sampling from logits, with the semantics of HF transformers' logits
// processors. The chain, in order:
//   1. repetition penalty over every distinct id seen so far (prompt
//      included): a positive logit is divided by the penalty, a negative one
//      multiplied (penalty 1 = off);
//   2. temperature <= 0: greedy, return the argmax (ties: lowest id);
//   3. logits / temperature;
//   4. top-k: keep the k highest logits, ties at the k-th included (0 = off);
//   5. top-p: softmax over what is left, keep the smallest set of most likely
//      tokens whose mass reaches p (at least one token; 1 = off);
//   6. min-p: keep tokens whose probability is >= min_p * the highest (0 = off);
//   7. draw from the renormalized probabilities with the seeded Rng.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "src/sampling/rng.h"

namespace awq {

struct SamplingParams {
  float temperature = 0.f;  // <= 0: greedy
  int top_k = 0;
  float top_p = 1.f;
  float min_p = 0.f;
  float repeat_penalty = 1.f;
  uint64_t seed = 0;
};

// One candidate after the filters: token id and probability (sums to 1).
struct Candidate {
  int id;
  float p;
};

// True when sampling is the argmax of the raw logits (temperature 0, no
// repetition penalty): the backend may then pick the token itself.
inline bool is_plain_greedy(const SamplingParams& p) { return p.temperature <= 0.f && p.repeat_penalty == 1.f; }

// The largest logits of one row, by id, in no particular order: every logit
// >= the count-th largest (ties included). With count = k + the number of
// distinct history ids, steps 1-7 give exactly what they give on the whole
// row: the penalty only lowers history ids, at most that many, so at least k
// untouched logits in the pool are >= every logit outside it, and step 4
// (or step 2 with k = 1) keeps nothing from outside. A backend fills one on
// the device so that ~count logits cross to the host instead of the row.
struct LogitPool {
  std::vector<int> ids;
  std::vector<float> values;
};
inline constexpr int kMaxLogitPool = 1024;

// The pool size that steps 1-7 need (see LogitPool), or 0 when they need the
// whole row (temperature > 0 without top-k, or a pool of > kMaxLogitPool).
int logit_pool_size(const SamplingParams& p, int distinct_history);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}
  // history: every token id so far (prompt + generated), for the penalty.
  int sample(std::span<const float> logits, std::span<const int> history);
  // The same from a pool of logit_pool_size() entries: the same token.
  int sample(const LogitPool& pool, std::span<const int> history);
  // Steps 1-6 only (temperature > 0): the candidates step 7 draws from, by id.
  std::vector<Candidate> candidates(std::span<const float> logits, std::span<const int> history) const;

 private:
  // Steps 2-7 on (ids[i], values[i]) after the penalty; ids empty: the ids
  // are the positions (a whole row).
  int choose(std::span<const int> ids, std::span<const float> values);
  std::vector<Candidate> filter(std::span<const int> ids, std::span<const float> values) const;

  SamplingParams params_;
  Rng rng_;
};

// Step 1 alone, in place.
void apply_repetition_penalty(std::vector<float>& logits, std::span<const int> history, float penalty);

}  // namespace awq
