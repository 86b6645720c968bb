#include "src/sampling/sampler.h"

#include <algorithm>
#include <cmath>

#include "src/common/error.h"

namespace awq {

void apply_repetition_penalty(std::vector<float>& logits, std::span<const int> history, float penalty) {
  if (penalty == 1.f) return;
  std::vector<bool> seen(logits.size(), false);
  for (int id : history) {
    if (id < 0 || size_t(id) >= logits.size() || seen[size_t(id)]) continue;
    seen[size_t(id)] = true;
    float& l = logits[size_t(id)];
    l = l > 0 ? l / penalty : l * penalty;
  }
}

int logit_pool_size(const SamplingParams& p, int distinct_history) {
  const int k = p.temperature <= 0.f ? 1 : p.top_k;
  if (k <= 0) return 0;
  const long n = long(k) + (p.repeat_penalty != 1.f ? distinct_history : 0);
  return n <= kMaxLogitPool ? int(n) : 0;
}

std::vector<Candidate> Sampler::candidates(std::span<const float> in, std::span<const int> history) const {
  std::vector<float> logits(in.begin(), in.end());
  apply_repetition_penalty(logits, history, params_.repeat_penalty);
  return filter({}, logits);
}

std::vector<Candidate> Sampler::filter(std::span<const int> ids, std::span<const float> logits) const {
  const float inv_t = 1.f / params_.temperature;
  auto id_of = [&](int i) { return ids.empty() ? i : ids[size_t(i)]; };
  std::vector<int> order(logits.size());  // positions into ids / logits
  for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  // Descending logit, ties by id: the order every later step relies on.
  auto by_logit = [&](int a, int b) {
    return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : id_of(a) < id_of(b);
  };
  size_t keep = order.size();
  if (params_.top_k > 0 && size_t(params_.top_k) < order.size()) {
    std::nth_element(order.begin(), order.begin() + params_.top_k - 1, order.end(), by_logit);
    const float kth = logits[size_t(order[size_t(params_.top_k - 1)])];
    keep = size_t(std::partition(order.begin(), order.end(), [&](int i) { return logits[size_t(i)] >= kth; }) -
                  order.begin());
  }
  std::sort(order.begin(), order.begin() + long(keep), by_logit);
  order.resize(keep);
  // Softmax of the scaled logits (max first, so no overflow).
  std::vector<Candidate> c;
  c.reserve(keep);
  const double top = double(logits[size_t(order[0])]) * inv_t;
  double total = 0;
  for (int i : order) {
    const double e = std::exp(double(logits[size_t(i)]) * inv_t - top);
    total += e;
    c.push_back({id_of(i), float(e)});
  }
  for (auto& x : c) x.p = float(x.p / total);
  if (params_.top_p < 1.f) {
    double before = 0;  // mass of the tokens ranked above this one
    size_t n = 0;
    while (n < c.size() && (n == 0 || before < params_.top_p)) before += c[n++].p;
    c.resize(n);
  }
  if (params_.min_p > 0.f) {
    const float floor = params_.min_p * c[0].p;
    c.erase(std::remove_if(c.begin() + 1, c.end(), [&](const Candidate& x) { return x.p < floor; }), c.end());
  }
  double kept = 0;
  for (const auto& x : c) kept += x.p;
  for (auto& x : c) x.p = float(x.p / kept);
  return c;
}

int Sampler::choose(std::span<const int> ids, std::span<const float> values) {
  auto id_of = [&](size_t i) { return ids.empty() ? int(i) : ids[i]; };
  if (params_.temperature <= 0.f) {  // the highest value, lowest id on ties
    size_t best = 0;
    for (size_t i = 1; i < values.size(); ++i)
      if (values[i] > values[best] || (values[i] == values[best] && id_of(i) < id_of(best))) best = i;
    return id_of(best);
  }
  const std::vector<Candidate> c = filter(ids, values);
  const double u = rng_.uniform();
  double acc = 0;
  for (const auto& x : c) {
    acc += x.p;
    if (u < acc) return x.id;
  }
  return c.back().id;  // u within rounding of 1
}

int Sampler::sample(std::span<const float> logits, std::span<const int> history) {
  std::vector<float> l(logits.begin(), logits.end());
  apply_repetition_penalty(l, history, params_.repeat_penalty);
  return choose({}, l);
}

int Sampler::sample(const LogitPool& pool, std::span<const int> history) {
  if (pool.ids.empty() || pool.ids.size() != pool.values.size()) runtime_error("Sampler: empty or ragged logit pool");
  std::vector<float> values = pool.values;
  if (params_.repeat_penalty != 1.f) {
    // Step 1 on the pool's members: each distinct history id once.
    std::vector<size_t> by_id(pool.ids.size());
    for (size_t i = 0; i < by_id.size(); ++i) by_id[i] = i;
    std::sort(by_id.begin(), by_id.end(), [&](size_t a, size_t b) { return pool.ids[a] < pool.ids[b]; });
    std::vector<bool> done(by_id.size(), false);
    for (int id : history) {
      const auto it = std::lower_bound(by_id.begin(), by_id.end(), id,
                                       [&](size_t i, int want) { return pool.ids[i] < want; });
      if (it == by_id.end() || pool.ids[*it] != id || done[size_t(it - by_id.begin())]) continue;
      done[size_t(it - by_id.begin())] = true;
      float& l = values[*it];
      l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
    }
  }
  return choose(pool.ids, values);
}

}  // namespace awq
