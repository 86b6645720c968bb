#include "src/batch/continuous_batch.h"

#include <memory>
#include <optional>

#include "src/batch/request_generation.h"
#include "src/common/error.h"

namespace awq {
namespace {

struct Sequence {
  BatchRequest request;
  SequenceGeneration generation;
};

class Scheduler {
 public:
  Scheduler(RequestQueue& queue, OrderedResultWriter& writer, ModelRunner& runner, const Tokenizer& tokenizer,
            const RequestPreparer& prepare, const ProgressCallback& on_progress)
      : queue_(queue), writer_(writer), runner_(runner), tokenizer_(tokenizer), prepare_(prepare),
        on_progress_(on_progress), slots_(size_t(runner.max_sequences())) {
    progress_.total = queue.remaining();
  }

  // Starts queued requests in the free slots (their prompts in one
  // prefill_slots call); false when nothing is left to run.
  bool fill_slots() {
    for (;;) {
      std::vector<int> starting;
      for (size_t slot = 0; slot < slots_.size(); ++slot)
        while (!slots_[slot] && !queue_exhausted_) {
          admit(int(slot));
          if (slots_[slot]) starting.push_back(int(slot));
        }
      if (starting.empty()) break;
      prefill(starting);  // some may finish at once, freeing their slots again
    }
    for (const auto& s : slots_)
      if (s) return true;
    return false;
  }

  // One decode step of every running sequence. Sampled rows take a pool of
  // their largest logits where the runner makes them (sampler.h: LogitPool),
  // else every row's logits cross.
  void step() {
    rows_.clear();
    owners_.clear();
    pool_sizes_.clear();
    bool want_logits = false, pools_suffice = true;
    for (size_t slot = 0; slot < slots_.size(); ++slot) {
      if (!slots_[slot]) continue;
      const SequenceGeneration& g = slots_[slot]->generation;
      rows_.push_back({int(slot), g.next_token(), g.next_pos()});
      owners_.push_back(slot);
      add_pool_size(g, want_logits, pools_suffice);
    }
    if (want_logits && pools_suffice && runner_.decode_rows_top(rows_, pool_sizes_, ids_, pools_)) {
      for (size_t i = 0; i < owners_.size(); ++i) take_pooled_token(owners_[i], i);
      return;
    }
    runner_.decode_rows(rows_, ids_, want_logits ? &logits_ : nullptr);
    for (size_t i = 0; i < owners_.size(); ++i) take_token(owners_[i], i, want_logits);
  }

  const BatchProgress& progress() const { return progress_; }

 private:
  // Pops the next request into `slot`; the slot stays free when the request
  // is malformed, fails to prepare or needs no tokens.
  void admit(int slot) {
    std::optional<BatchRequest> request = queue_.pop();
    if (!request) {
      queue_exhausted_ = true;
      return;
    }
    if (!request->error.empty()) return submit(*request, error_result(request->id, request->error));
    try {
      PreparedRequest p = prepare_(*request);
      auto s = std::make_unique<Sequence>(Sequence{
          *request, SequenceGeneration(tokenizer_, p.prompt_ids, p.options, runner_.max_context(), nullptr)});
      if (s->generation.done()) return finish(s);
      slots_[size_t(slot)] = std::move(s);
    } catch (...) {
      submit(*request, result_of_current_exception(*request));
    }
  }

  // Runs the prompts of the sequences just admitted to `starting` and takes
  // their first tokens. Should the joint call fail for another reason than
  // the device, each prompt runs alone, so the failure stays with its request.
  // Sampled prompts take pools, as in step().
  void prefill(const std::vector<int>& starting) {
    std::vector<SlotPrompt> prompts;
    pool_sizes_.clear();
    bool want_logits = false, pools_suffice = true;
    for (int slot : starting) {
      SequenceGeneration& g = slots_[size_t(slot)]->generation;
      g.start();
      prompts.push_back({slot, g.prompt(), 0});
      add_pool_size(g, want_logits, pools_suffice);
    }
    bool pooled = false;
    try {
      pooled = want_logits && pools_suffice && runner_.prefill_slots_top(prompts, pool_sizes_, ids_, pools_);
      if (!pooled) runner_.prefill_slots(prompts, ids_, want_logits ? &logits_ : nullptr);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Device) throw;
      for (int slot : starting) prefill_alone(slot);
      return;
    }
    if (!pooled) {
      for (size_t i = 0; i < starting.size(); ++i) take_token(size_t(starting[i]), i, want_logits);
      return;
    }
    for (size_t i = 0; i < starting.size(); ++i) take_pooled_token(size_t(starting[i]), i);
  }

  // Row i of the last runner call is the next token of the sequence in
  // `slot` (its logits in logits_ when they were asked for).
  void take_token(size_t slot, size_t i, bool have_logits) {
    std::unique_ptr<Sequence>& s = slots_[slot];
    const size_t vocab = size_t(runner_.config().vocab_size);
    s->generation.accept(ids_[i], have_logits ? std::span<const float>(logits_.data() + i * vocab, vocab)
                                              : std::span<const float>());
    if (s->generation.done()) finish(s);
  }

  // Appends g's pool size to pool_sizes_ (0: it needs no logits) and notes
  // whether it needs logits and whether a pool can stand for its row.
  void add_pool_size(const SequenceGeneration& g, bool& want_logits, bool& pools_suffice) {
    const int pool_size = g.needs_logits() ? g.logit_pool_size() : 0;
    pool_sizes_.push_back(pool_size);
    want_logits |= g.needs_logits();
    pools_suffice &= !g.needs_logits() || pool_size > 0;
  }

  // Row i of the last *_top call: the sequence in `slot` samples from its
  // pool, or takes the argmax when it needs no logits.
  void take_pooled_token(size_t slot, size_t i) {
    std::unique_ptr<Sequence>& s = slots_[slot];
    if (pool_sizes_[i] > 0) s->generation.accept(pools_[i]);
    else s->generation.accept(ids_[i], {});
    if (s->generation.done()) finish(s);
  }

  void prefill_alone(int slot) {
    std::unique_ptr<Sequence>& s = slots_[size_t(slot)];
    try {
      SequenceGeneration& g = s->generation;
      const int id = runner_.forward_slot(slot, g.prompt(), 0, g.needs_logits() ? &logits_ : nullptr);
      g.accept(id, logits_);
      if (g.done()) finish(s);
    } catch (...) {
      submit(s->request, result_of_current_exception(s->request));
      s.reset();
    }
  }

  void finish(std::unique_ptr<Sequence>& s) {
    BatchResult r = to_batch_result(s->generation.finish());
    r.id = s->request.id;
    submit(s->request, r);
    s.reset();
  }

  void submit(const BatchRequest& request, const BatchResult& r) {
    submit_result(request, r, writer_, progress_, on_progress_);
  }

  RequestQueue& queue_;
  OrderedResultWriter& writer_;
  ModelRunner& runner_;
  const Tokenizer& tokenizer_;
  const RequestPreparer& prepare_;
  const ProgressCallback& on_progress_;
  std::vector<std::unique_ptr<Sequence>> slots_;  // by KV slot; null = free
  bool queue_exhausted_ = false;
  BatchProgress progress_;
  std::vector<DecodeRow> rows_;
  std::vector<size_t> owners_;  // slot of each row
  std::vector<int> ids_;
  std::vector<float> logits_;
  std::vector<int> pool_sizes_;
  std::vector<LogitPool> pools_;
};

}  // namespace

BatchProgress run_continuous(RequestQueue& queue, OrderedResultWriter& writer, ModelRunner& runner,
                             const Tokenizer& tokenizer, const RequestPreparer& prepare,
                             const std::function<void()>& poll, const ProgressCallback& on_progress) {
  Scheduler scheduler(queue, writer, runner, tokenizer, prepare, on_progress);
  while (scheduler.fill_slots()) {
    if (poll) poll();
    scheduler.step();
  }
  return scheduler.progress();
}

}  // namespace awq
