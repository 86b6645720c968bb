#include "src/sampling/sampler.h"

#include <algorithm>
#include <cmath>

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

std::vector<Candidate> Sampler::candidates(std::span<const float> in, std::span<const int> history) const {
  std::vector<float> logits(in.begin(), in.end());
  apply_repetition_penalty(logits, history, params_.repeat_penalty);
  const float inv_t = 1.f / params_.temperature;
  std::vector<int> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
  // Descending logit, ties by id: the order every later step relies on.
  auto by_logit = [&](int a, int b) {
    return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : a < b;
  };
  size_t keep = order.size();
  if (params_.top_k > 0 && size_t(params_.top_k) < order.size()) {
    std::nth_element(order.begin(), order.begin() + params_.top_k - 1, order.end(), by_logit);
    const float kth = logits[size_t(order[size_t(params_.top_k - 1)])];
    keep = size_t(std::partition(order.begin(), order.end(), [&](int id) { return logits[size_t(id)] >= kth; }) -
                  order.begin());
  }
  std::sort(order.begin(), order.begin() + long(keep), by_logit);
  order.resize(keep);
  // Softmax of the scaled logits (max first, so no overflow).
  std::vector<Candidate> c;
  c.reserve(keep);
  const double top = double(logits[size_t(order[0])]) * inv_t;
  double total = 0;
  for (int id : order) {
    const double e = std::exp(double(logits[size_t(id)]) * inv_t - top);
    total += e;
    c.push_back({id, float(e)});
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

int Sampler::sample(std::span<const float> logits, std::span<const int> history) {
  if (params_.temperature <= 0.f) {
    std::vector<float> l(logits.begin(), logits.end());
    apply_repetition_penalty(l, history, params_.repeat_penalty);
    return int(std::max_element(l.begin(), l.end()) - l.begin());
  }
  const std::vector<Candidate> c = candidates(logits, history);
  const double u = rng_.uniform();
  double acc = 0;
  for (const auto& x : c) {
    acc += x.p;
    if (u < acc) return x.id;
  }
  return c.back().id;  // u within rounding of 1
}

}  // namespace awq
