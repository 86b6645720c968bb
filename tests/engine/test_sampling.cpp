// Sampler filters against brute-force references, sampling frequencies
// against the filtered distribution, RNG reproducibility, and the stop
// matcher across token boundaries.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "src/sampling/sampler.h"
#include "src/sampling/stop_matcher.h"
#include "tests/engine/engine_test_util.h"

using namespace awq;

namespace {

// Brute force, straight from the HF processor definitions: O(n^2), no sorting tricks.
std::map<int, double> reference_candidates(std::vector<float> logits, const std::vector<int>& history,
                                           const SamplingParams& p) {
  std::set<int> seen(history.begin(), history.end());
  for (int id : seen) logits[size_t(id)] = logits[size_t(id)] > 0 ? logits[size_t(id)] / p.repeat_penalty
                                                                   : logits[size_t(id)] * p.repeat_penalty;
  const int n = int(logits.size());
  std::vector<bool> keep(size_t(n), true);
  if (p.top_k > 0)
    for (int i = 0; i < n; ++i) {
      int greater = 0;
      for (int j = 0; j < n; ++j) greater += logits[size_t(j)] > logits[size_t(i)];
      if (greater >= p.top_k) keep[size_t(i)] = false;
    }
  auto probs = [&] {
    std::vector<double> pr(size_t(n), 0.0);
    double total = 0;
    for (int i = 0; i < n; ++i)
      if (keep[size_t(i)]) total += pr[size_t(i)] = std::exp(double(logits[size_t(i)]) / p.temperature);
    for (double& x : pr) x /= total;
    return pr;
  };
  if (p.top_p < 1.f) {
    const auto pr = probs();
    std::vector<bool> next = keep;
    for (int i = 0; i < n; ++i) {
      if (!keep[size_t(i)]) continue;
      double above = 0;  // mass ranked strictly above i (ties: lower id first)
      for (int j = 0; j < n; ++j)
        if (keep[size_t(j)] && (logits[size_t(j)] > logits[size_t(i)] || (logits[size_t(j)] == logits[size_t(i)] && j < i)))
          above += pr[size_t(j)];
      if (above >= p.top_p) next[size_t(i)] = false;
    }
    keep = next;
  }
  if (p.min_p > 0.f) {
    const auto pr = probs();
    const double top = *std::max_element(pr.begin(), pr.end());
    for (int i = 0; i < n; ++i)
      if (pr[size_t(i)] < p.min_p * top) keep[size_t(i)] = false;
  }
  const auto pr = probs();
  std::map<int, double> out;
  for (int i = 0; i < n; ++i)
    if (keep[size_t(i)]) out[i] = pr[size_t(i)];
  return out;
}

}  // namespace

TEST_CASE("sampler filters match a brute-force reference", "[sampling]") {
  std::mt19937 rng(31);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 5 + trial % 40;
    auto logits = test::random_floats(rng, size_t(n), -4, 4);
    if (trial % 5 == 0) logits[1] = logits[0];  // ties
    std::vector<int> history;
    for (int i = 0; i < trial % 7; ++i) history.push_back(int(rng() % unsigned(n)));
    SamplingParams p;
    p.temperature = 0.3f + float(trial % 4) * 0.5f;
    p.top_k = trial % 3 == 0 ? 0 : 1 + trial % 9;
    p.top_p = trial % 2 ? 1.f : 0.5f + float(trial % 5) * 0.1f;
    p.min_p = trial % 4 == 1 ? 0.f : 0.05f * float(trial % 3);
    p.repeat_penalty = trial % 3 == 1 ? 1.f : 1.3f;
    const auto got = Sampler(p).candidates(logits, history);
    const auto ref = reference_candidates(logits, history, p);
    INFO("trial " << trial);
    REQUIRE(got.size() == ref.size());
    for (const auto& c : got) {
      REQUIRE(ref.count(c.id) == 1);
      CHECK(c.p == Approx(ref.at(c.id)).epsilon(1e-4));
    }
  }
}

TEST_CASE("sampling frequencies follow the filtered distribution", "[sampling]") {
  const std::vector<float> logits{2.f, 1.5f, 1.f, 0.2f, -1.f, 0.7f};
  SamplingParams p;
  p.temperature = 0.9f;
  p.top_k = 4;
  p.seed = 1234;
  Sampler s(p);
  const auto expected = s.candidates(logits, {});
  const int draws = 40000;
  std::map<int, int> counts;
  for (int i = 0; i < draws; ++i) ++counts[s.sample(logits, {})];
  double chi2 = 0;
  for (const auto& c : expected) {
    const double e = c.p * draws;
    chi2 += (counts[c.id] - e) * (counts[c.id] - e) / e;
  }
  CHECK(counts.size() == expected.size());  // nothing outside the top-k
  CHECK(chi2 < 16.3);                        // 3 degrees of freedom, p = 0.001
}

TEST_CASE("sampling is reproducible from the seed and greedy is the argmax", "[sampling]") {
  std::mt19937 rng(32);
  const auto logits = test::random_floats(rng, 100, -3, 3);
  SamplingParams p;
  p.temperature = 1.f;
  p.seed = 99;
  Sampler a(p), b(p);
  p.seed = 100;
  Sampler c(p);
  std::vector<int> ra, rb, rc;
  for (int i = 0; i < 50; ++i) ra.push_back(a.sample(logits, {})), rb.push_back(b.sample(logits, {})),
                               rc.push_back(c.sample(logits, {}));
  CHECK(ra == rb);
  CHECK(ra != rc);
  // The generator's first outputs are fixed by the algorithm, not by the platform.
  Rng r(0);
  CHECK(r.next() == 0x99ec5f36cb75f2b4ull);
  SamplingParams greedy;
  greedy.repeat_penalty = 2.f;
  std::vector<float> l{1.f, 3.f, 2.5f, -1.f};
  CHECK(Sampler(greedy).sample(l, {}) == 1);
  CHECK(Sampler(greedy).sample(l, std::vector<int>{1}) == 2);  // 3 / 2 < 2.5
}

// What a backend's top-candidates kernel returns: every logit >= the
// count-th largest, in a scrambled order.
LogitPool host_pool(const std::vector<float>& logits, int count, std::mt19937& rng) {
  std::vector<float> sorted = logits;
  std::nth_element(sorted.begin(), sorted.begin() + count - 1, sorted.end(), std::greater<float>());
  const float cut = sorted[size_t(count - 1)];
  LogitPool pool;
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] >= cut) pool.ids.push_back(int(i)), pool.values.push_back(logits[i]);
  std::vector<size_t> perm(pool.ids.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  LogitPool out;
  for (size_t i : perm) out.ids.push_back(pool.ids[i]), out.values.push_back(pool.values[i]);
  return out;
}

TEST_CASE("sampling from a logit pool of logit_pool_size() draws what the whole row draws", "[sampling]") {
  std::mt19937 rng(std::random_device{}());
  const int vocab = 3000;
  for (int trial = 0; trial < 40; ++trial) {
    SamplingParams p;
    p.temperature = trial % 5 == 0 ? 0.f : 0.3f + 0.1f * float(trial % 9);
    p.top_k = 1 + trial * 7 % 80;
    p.top_p = trial % 3 == 0 ? 1.f : 0.9f;
    p.min_p = trial % 4 == 1 ? 0.05f : 0.f;
    p.repeat_penalty = trial % 2 ? 1.3f : 1.f;
    p.seed = uint64_t(trial);
    // Quantized logits: many ties, also across the pool's edge.
    std::vector<float> logits = test::random_floats(rng, vocab, -4, 4);
    for (float& l : logits) l = std::round(l * 8) / 8;
    std::vector<int> history(size_t(5 + trial * 13 % 300));
    for (int& id : history) id = int(rng() % 200);  // concentrated: the penalty reorders the top
    for (int i = 0; i < 100; ++i) logits[size_t(rng() % 200)] += 3.f;
    const int distinct = int(std::set<int>(history.begin(), history.end()).size());
    const int count = logit_pool_size(p, distinct);
    INFO("trial " << trial << " count " << count);
    REQUIRE(count > 0);
    Sampler whole(p), pooled(p);
    const LogitPool pool = host_pool(logits, count, rng);
    for (int draw = 0; draw < 20; ++draw) CHECK(whole.sample(logits, history) == pooled.sample(pool, history));
  }
  SamplingParams no_top_k;
  no_top_k.temperature = 1.f;
  CHECK(logit_pool_size(no_top_k, 0) == 0);  // without top-k every logit can be drawn
  no_top_k.top_k = 50;
  no_top_k.repeat_penalty = 1.1f;
  CHECK(logit_pool_size(no_top_k, kMaxLogitPool) == 0);  // too many history ids: the row
  CHECK(logit_pool_size(no_top_k, 10) == 60);
}

TEST_CASE("stop matcher never emits a stop string, even split across tokens", "[sampling]") {
  const std::vector<std::string> pieces{"Hel", "lo, wor", "ld! ST", "O", "P here", " and more"};
  std::string emitted;
  StopMatcher m({"STOP", "xyz"});
  for (const auto& p : pieces) {
    emitted += m.push(p);
    if (m.stopped()) break;
  }
  CHECK(m.stopped());
  CHECK(emitted == "Hello, world! ");
  CHECK(m.flush().empty());

  // Held back text comes out once it can no longer start a stop string.
  StopMatcher h({"</end>"});
  CHECK(h.push("a</") == "a");
  CHECK(h.push("e") == "");
  CHECK(h.push("x") == "</ex");
  CHECK(h.push("</en") == "");
  CHECK(h.flush() == "</en");
  CHECK_FALSE(h.stopped());

  // Every split of a text into two pieces gives the same result.
  const std::string text = "abc STOP def";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    StopMatcher s({"STOP"});
    std::string out = s.push(text.substr(0, cut));
    out += s.push(text.substr(cut));
    CHECK(out == "abc ");
  }
}
