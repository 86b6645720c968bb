// What `awqrun bench` runs: the lengths from --lengths and the KV-cache size
// that holds them. As in AutoAWQ's examples/benchmark.py, a length L means a
// prefill of L prompt tokens followed by L decode steps, so it needs 2L positions.
#pragma once
#include <span>
#include <string>
#include <vector>

namespace awq {

inline constexpr int kMaxBenchLength = 1 << 20;

// "32,64,128" -> {32, 64, 128}, in the given order. Throws Error(Usage) for an
// empty list, an item that is not a whole number in [1, kMaxBenchLength], or a
// repeated length.
std::vector<int> parse_lengths(const std::string& text);

inline int positions_needed(int length) { return 2 * length; }

// KV-cache positions for the runner. An explicit --ctx wins; otherwise just
// enough for the longest length, but no more than the model's
// max_position_embeddings (when set), so longer lengths are skipped rather
// than run past what the model was trained for.
int bench_context(std::span<const int> lengths, int max_position_embeddings, int ctx_flag);

}  // namespace awq
