// The seam between generation and a backend (CPU reference or CUDA): run a
// span of tokens through the model, appending to the backend's KV cache.
// A runner may hold several sequences side by side (KV-cache slots), which
// continuous batching decodes together (decode_rows).
#pragma once
#include <algorithm>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "src/common/error.h"
#include "src/model/model_config.h"
#include "src/sampling/sampler.h"

namespace awq {

// One row of a multi-sequence decode step: `token` at position `pos` of the
// sequence whose keys and values live in KV slot `slot`.
struct DecodeRow {
  int slot = 0, token = 0, pos = 0;
};

// A prompt to run into KV slot `slot`, at positions [n_past, n_past + size).
struct SlotPrompt {
  int slot = 0;
  std::span<const int> tokens;
  int n_past = 0;
};

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  virtual const ModelConfig& config() const = 0;
  virtual int max_context() const = 0;  // KV-cache capacity in positions
  virtual std::string describe() const = 0;  // "cpu float32, 2 threads" / "cuda:0 float16 gemv"

  // Runs tokens at positions [n_past, n_past + tokens.size()). Positions from
  // n_past on are overwritten (so n_past < cached length rewinds the cache).
  // logits receives [tokens.size()][vocab] when all_logits, else [vocab] for
  // the last token. Throws Error(Input) when n_past + tokens.size() > max_context().
  virtual void forward(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) = 0;

  // forward() for the last token's argmax (first index on ties) only. The
  // CUDA runner takes the argmax on the device, so only the id crosses to
  // the host; this default takes it from the host logits.
  virtual int forward_greedy(std::span<const int> tokens, int n_past) {
    forward(tokens, n_past, false, greedy_logits_);
    return int(std::max_element(greedy_logits_.begin(), greedy_logits_.end()) - greedy_logits_.begin());
  }

  // Greedy decoding of slot 0: runs `token` at n_past, then each id it
  // produces at the next position, calling on_token(id) after every step
  // until it returns false or max_steps ids came. This default runs
  // forward_greedy() step by step; the CUDA runner feeds each step's argmax
  // to the next on the device and enqueues that step before the host reads
  // the id, so the host's round trip overlaps the GPU's work. After
  // on_token returned false one more step may have run: its cache position
  // lies past the sequence, and any later pass there overwrites it.
  // Throws Error(Input) when n_past + max_steps > max_context().
  virtual void greedy_decode(int token, int n_past, int max_steps, const std::function<bool(int)>& on_token) {
    check_decode_positions(n_past, max_steps);
    for (int i = 0; i < max_steps; ++i) {
      token = forward_greedy(std::span<const int>(&token, 1), n_past + i);
      if (!on_token(token)) return;
    }
  }

  // forward_slot() that leaves in pool, instead of the row of logits, the
  // last token's `count` largest logits (ties included, sampler.h: LogitPool)
  // - or the whole row when too many tie. Returns false, having run nothing,
  // when the backend has no such path (the caller then asks for the row).
  virtual bool forward_slot_top(int slot, std::span<const int> tokens, int n_past, int count, LogitPool& pool) {
    (void)slot, (void)tokens, (void)n_past, (void)count, (void)pool;
    return false;
  }

  // decode_rows() that leaves, for each row with counts[i] > 0, its pool of
  // the counts[i] largest logits in pools[i] (as forward_slot_top) instead of
  // the rows of logits; ids[i] is the argmax as always. Returns false, having
  // run nothing, when the backend has no such path.
  virtual bool decode_rows_top(std::span<const DecodeRow> rows, std::span<const int> counts, std::vector<int>& ids,
                               std::vector<LogitPool>& pools) {
    (void)rows, (void)counts, (void)ids, (void)pools;
    return false;
  }

  // prefill_slots() that leaves, for each prompt with counts[i] > 0, the pool
  // of its last token's counts[i] largest logits in pools[i] (as
  // forward_slot_top) instead of the rows of logits. Returns false, having
  // run nothing, when the backend has no such path.
  virtual bool prefill_slots_top(std::span<const SlotPrompt> prompts, std::span<const int> counts,
                                 std::vector<int>& ids, std::vector<LogitPool>& pools) {
    (void)prompts, (void)counts, (void)ids, (void)pools;
    return false;
  }

  // Sequences whose caches the runner holds side by side: slots
  // 0 .. max_sequences() - 1, each of max_context() positions. forward() and
  // forward_greedy() use slot 0.
  virtual int max_sequences() const { return 1; }

  // Runs tokens at [n_past, n_past + tokens.size()) of slot `slot` and
  // returns the last token's argmax (first index on ties); its [vocab]
  // logits go to *logits when that is non-null.
  virtual int forward_slot(int slot, std::span<const int> tokens, int n_past, std::vector<float>* logits) {
    check_slot(slot);
    if (!logits) return forward_greedy(tokens, n_past);
    forward(tokens, n_past, false, *logits);
    return int(std::max_element(logits->begin(), logits->end()) - logits->begin());
  }

  // Several prompts into distinct slots: ids[i] = the argmax of prompt i's
  // last token, *logits = [prompts][vocab] when non-null. The GPU packs them
  // into shared passes; this default runs forward_slot() on each.
  virtual void prefill_slots(std::span<const SlotPrompt> prompts, std::vector<int>& ids, std::vector<float>* logits) {
    const size_t vocab = size_t(config().vocab_size);
    ids.resize(prompts.size());
    if (logits) logits->resize(prompts.size() * vocab);
    for (size_t i = 0; i < prompts.size(); ++i) {
      ids[i] = forward_slot(prompts[i].slot, prompts[i].tokens, prompts[i].n_past, logits ? &row_logits_ : nullptr);
      if (logits) std::copy(row_logits_.begin(), row_logits_.end(), logits->begin() + i * vocab);
    }
  }

  // One token for each of several sequences in distinct slots, as one step:
  // ids[i] = row i's argmax, and *logits = [rows][vocab] when non-null. The
  // result equals forward_slot() row by row (up to the rounding of batched
  // matrix products), which is what this default does.
  virtual void decode_rows(std::span<const DecodeRow> rows, std::vector<int>& ids, std::vector<float>* logits) {
    const size_t vocab = size_t(config().vocab_size);
    ids.resize(rows.size());
    if (logits) logits->resize(rows.size() * vocab);
    for (size_t i = 0; i < rows.size(); ++i) {
      ids[i] = forward_slot(rows[i].slot, std::span<const int>(&rows[i].token, 1), rows[i].pos,
                            logits ? &row_logits_ : nullptr);
      if (logits) std::copy(row_logits_.begin(), row_logits_.end(), logits->begin() + i * vocab);
    }
  }

 protected:
  void check_slot(int slot) const {
    if (slot < 0 || slot >= max_sequences())
      input_error("sequence slot {} is outside the runner's {} slots", slot, max_sequences());
  }
  // greedy_decode's precondition: its max_steps positions fit the context.
  void check_decode_positions(int n_past, int max_steps) const {
    if (n_past + max_steps > max_context())
      input_error("greedy_decode: positions up to {} exceed the context of {}", n_past + max_steps, max_context());
  }

 private:
  std::vector<float> greedy_logits_, row_logits_;
};

}  // namespace awq
