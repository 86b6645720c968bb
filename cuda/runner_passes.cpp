// How passes are driven: single-sequence prefill and decode (a captured
// graph), packed prefill and decode rows of many sequences, sampling pools.
#include <algorithm>

#include "cuda/cuda_check.h"
#include "cuda/cuda_runner_impl.h"
#include "cuda/launch.h"
#include "src/common/error.h"

namespace awq::cuda_runner_internal {

void CudaRunnerImpl::upload_rows(const std::vector<int>& tokens, const std::vector<int>& pos,
                                 const std::vector<int>& slot) {
  const size_t bytes = tokens.size() * sizeof(int);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens.data(), bytes, cudaMemcpyHostToDevice, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(row_pos_.get(), pos.data(), bytes, cudaMemcpyHostToDevice, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(row_slot_.get(), slot.data(), bytes, cudaMemcpyHostToDevice, stream_));
}

void CudaRunnerImpl::decode_step(int token, int n_past) {
  AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), &token, sizeof(int), cudaMemcpyHostToDevice, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(pos_.get(), &n_past, sizeof(int), cudaMemcpyHostToDevice, stream_));
  auto step = [&] {
    run_layers({Pass::Kind::Sequence, 1, 0});
    lm_head(0, 1);
    cuda::argmax_rows(logits_.get(), 1, w_->config.vocab_size, ids_.get(), stream_);
  };
  // Unfused modules: every kernel launched from the host, as an eager framework does.
  if (!opt_.fused) return step();
  if (!decode_graph_) {
    step();  // warm-up outside capture (kernel attributes, cuBLAS heuristics); it computes this step
    decode_graph_ = capture(step);
    return;
  }
  AWQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_, stream_));
}

cudaGraphExec_t CudaRunnerImpl::capture(const std::function<void()>& launches) {
  cudaGraph_t graph;
  AWQ_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  launches();
  AWQ_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
  cudaGraphExec_t exec = nullptr;
  AWQ_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  AWQ_CUDA_CHECK(cudaGraphDestroy(graph));
  return exec;
}

void CudaRunnerImpl::prefill(int slot, std::span<const int> tokens, int n_past, bool all_logits,
                             std::vector<float>* logits) {
  const int vocab = w_->config.vocab_size, n = int(tokens.size());
  for (int start = 0; start < n; start += kChunk) {
    const int len = std::min(kChunk, n - start), pos = n_past + start;
    AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens.data() + start, len * sizeof(int), cudaMemcpyHostToDevice, stream_));
    AWQ_CUDA_CHECK(cudaMemcpyAsync(pos_.get(), &pos, sizeof(int), cudaMemcpyHostToDevice, stream_));
    run_layers({Pass::Kind::Sequence, len, slot});
    const bool last = start + len == n;
    if (all_logits) {
      for (int row = 0; row < len; row += kLogitRows) {
        const int rows = std::min(kLogitRows, len - row);
        lm_head(row, rows);
        if (logits)
          AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data() + size_t(start + row) * vocab, logits_.get(),
                                         size_t(rows) * vocab * 4, cudaMemcpyDeviceToHost, stream_));
        if (last && row + rows == len)
          cuda::argmax_rows(logits_.get() + size_t(rows - 1) * vocab, 1, vocab, ids_.get(), stream_);
        AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // logits_ is reused by the next rows
      }
    } else if (last) {
      lm_head(len - 1, 1);
      if (logits) AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data(), logits_.get(), size_t(vocab) * 4, cudaMemcpyDeviceToHost, stream_));
      cuda::argmax_rows(logits_.get(), 1, vocab, ids_.get(), stream_);
    }
    AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // host sources above live on this stack frame
  }
}

void CudaRunnerImpl::forward(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) {
  check_span(tokens, n_past);
  const int vocab = w_->config.vocab_size;
  logits.resize(size_t(all_logits ? tokens.size() : 1) * vocab);
  if (tokens.empty()) return;
  if (tokens.size() == 1) {
    decode_step(tokens[0], n_past);
    AWQ_CUDA_CHECK(cudaMemcpyAsync(logits.data(), logits_.get(), size_t(vocab) * 4, cudaMemcpyDeviceToHost, stream_));
    AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return;
  }
  prefill(0, tokens, n_past, all_logits, &logits);
}

int CudaRunnerImpl::forward_greedy(std::span<const int> tokens, int n_past) {
  check_span(tokens, n_past);
  if (tokens.empty()) input_error("forward_greedy needs at least one token");
  return forward_slot(0, tokens, n_past, nullptr);
}

// Step i of the chain (i >= 1) takes step i - 1's argmax from ids_ on the
// device, so it is enqueued before the host reads that id: the host's
// round trip (event wait, the caller's text and stop checks, the next
// launch) overlaps a step on the GPU instead of leaving it idle. Two steps
// are in flight at most; the pinned pair of step i is reused by step i + 2,
// enqueued only after step i's id was read.
void CudaRunnerImpl::greedy_decode(int token, int n_past, int max_steps, const std::function<bool(int)>& on_token) {
  // Unfused modules launch every kernel from the host anyway: step by step.
  if (!opt_.fused) return ModelRunner::greedy_decode(token, n_past, max_steps, on_token);
  if (max_steps <= 0) return;
  check_decode_positions(n_past, max_steps);
  // The first step through forward_greedy (it captures the decode graph on first use).
  const int first = forward_greedy(std::span<const int>(&token, 1), n_past);
  if (!on_token(first) || max_steps == 1) return;
  auto enqueue = [&](int i) {
    int* pair = chain_host_ + 2 * (i % 2);  // {position, id}
    pair[0] = n_past + i;
    AWQ_CUDA_CHECK(cudaMemcpyAsync(pos_.get(), &pair[0], sizeof(int), cudaMemcpyHostToDevice, stream_));
    AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), ids_.get(), sizeof(int), cudaMemcpyDeviceToDevice, stream_));
    AWQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_, stream_));
    AWQ_CUDA_CHECK(cudaMemcpyAsync(&pair[1], ids_.get(), sizeof(int), cudaMemcpyDeviceToHost, stream_));
    AWQ_CUDA_CHECK(cudaEventRecord(chain_done_[i % 2], stream_));
  };
  enqueue(1);
  for (int i = 1; i < max_steps; ++i) {
    if (i + 1 < max_steps) enqueue(i + 1);
    AWQ_CUDA_CHECK(cudaEventSynchronize(chain_done_[i % 2]));
    if (!on_token(chain_host_[2 * (i % 2) + 1])) return;
  }
}

int CudaRunnerImpl::forward_slot(int slot, std::span<const int> tokens, int n_past, std::vector<float>* logits) {
  check_slot(slot);
  check_span(tokens, n_past);
  if (tokens.empty()) input_error("forward_slot needs at least one token");
  if (logits) logits->resize(size_t(w_->config.vocab_size));
  if (tokens.size() == 1 && slot == 0) {  // the captured graph bakes slot 0's cache in
    decode_step(tokens[0], n_past);
    if (logits)
      AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data(), logits_.get(), logits->size() * 4, cudaMemcpyDeviceToHost, stream_));
  } else {
    prefill(slot, tokens, n_past, false, logits);
  }
  int id = 0;
  AWQ_CUDA_CHECK(cudaMemcpyAsync(&id, ids_.get(), sizeof(int), cudaMemcpyDeviceToHost, stream_));
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
  return id;
}

bool CudaRunnerImpl::forward_slot_top(int slot, std::span<const int> tokens, int n_past, int count, LogitPool& pool) {
  if (!logit_pool_) return false;
  check_slot(slot);
  check_span(tokens, n_past);
  if (tokens.empty()) input_error("forward_slot_top needs at least one token");
  if (tokens.size() == 1 && slot == 0) decode_step(tokens[0], n_past);  // the graph's argmax is not needed; it is cheap
  else prefill(slot, tokens, n_past, false, nullptr);
  const int counts[] = {count};
  std::vector<LogitPool> pools(1);
  take_pools(counts, pools);
  pool = std::move(pools[0]);
  return true;
}

void CudaRunnerImpl::take_pools(std::span<const int> counts, std::vector<LogitPool>& pools) {
  const int vocab = w_->config.vocab_size, rows = int(counts.size());
  std::vector<int> clamped(counts.begin(), counts.end());
  for (int& c : clamped) c = std::clamp(c, 1, vocab);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(pool_counts_.get(), clamped.data(), size_t(rows) * sizeof(int), cudaMemcpyHostToDevice,
                                 stream_));
  cuda::top_candidates(logits_.get(), rows, vocab, pool_counts_.get(), kMaxLogitPool, pool_ids_.get(),
                       pool_values_.get(), stream_);
  // One copy of each array (~8 KB a row) instead of the rows of logits.
  std::vector<int> ids(size_t(rows) * (kMaxLogitPool + 1));
  std::vector<float> values(size_t(rows) * kMaxLogitPool);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids.data(), pool_ids_.get(), ids.size() * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(values.data(), pool_values_.get(), values.size() * 4, cudaMemcpyDeviceToHost, stream_));
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // also keeps `clamped` alive for its upload
  pools.resize(size_t(rows));
  for (int r = 0; r < rows; ++r) {
    LogitPool& pool = pools[size_t(r)];
    pool.ids.clear();
    pool.values.clear();
    if (counts[size_t(r)] <= 0) continue;
    const int* row_ids = ids.data() + size_t(r) * (kMaxLogitPool + 1);
    const int n = row_ids[kMaxLogitPool];
    if (n > kMaxLogitPool) {  // too many ties at the cut: the whole row
      pool.ids.resize(size_t(vocab));
      for (int i = 0; i < vocab; ++i) pool.ids[size_t(i)] = i;
      pool.values.resize(size_t(vocab));
      AWQ_CUDA_CHECK(cudaMemcpy(pool.values.data(), logits_.get() + size_t(r) * vocab, size_t(vocab) * 4,
                                cudaMemcpyDeviceToHost));
      continue;
    }
    pool.ids.assign(row_ids, row_ids + n);
    const float* row_values = values.data() + size_t(r) * kMaxLogitPool;
    pool.values.assign(row_values, row_values + n);
  }
}

void CudaRunnerImpl::prefill_slots(std::span<const SlotPrompt> prompts, std::vector<int>& ids,
                                   std::vector<float>* logits) {
  prefill_slots_into(prompts, ids, logits, {}, nullptr);
}

bool CudaRunnerImpl::prefill_slots_top(std::span<const SlotPrompt> prompts, std::span<const int> counts,
                                       std::vector<int>& ids, std::vector<LogitPool>& pools) {
  if (!logit_pool_) return false;
  if (counts.size() != prompts.size())
    runtime_error("prefill_slots_top: {} counts for {} prompts", counts.size(), prompts.size());
  prefill_slots_into(prompts, ids, nullptr, counts, &pools);
  return true;
}

void CudaRunnerImpl::prefill_slots_into(std::span<const SlotPrompt> prompts, std::vector<int>& ids,
                                        std::vector<float>* logits, std::span<const int> counts,
                                        std::vector<LogitPool>* pools) {
  const size_t vocab = size_t(w_->config.vocab_size);
  if (prompts.size() > size_t(slots_)) input_error("prefill_slots: {} prompts for {} slots", prompts.size(), slots_);
  for (const SlotPrompt& p : prompts) {
    check_slot(p.slot);
    check_span(p.tokens, p.n_past);
    if (p.tokens.empty()) input_error("prefill_slots: an empty prompt");
  }
  ids.resize(prompts.size());
  if (logits) logits->resize(prompts.size() * vocab);
  if (pools) pools->resize(prompts.size());
  std::vector<float> one;
  std::vector<LogitPool> taken;
  // After each pass, logits_ holds its prompts' last rows in order.
  auto take = [&](size_t first, size_t n) {
    if (!pools) return;
    take_pools(counts.subspan(first, n), taken);
    std::move(taken.begin(), taken.end(), pools->begin() + ptrdiff_t(first));
  };
  for (size_t i = 0; i < prompts.size();) {
    if (prompts[i].tokens.size() > size_t(kChunk)) {  // a long prompt takes passes of its own
      ids[i] = forward_slot(prompts[i].slot, prompts[i].tokens, prompts[i].n_past, logits ? &one : nullptr);
      if (logits) std::copy(one.begin(), one.end(), logits->begin() + i * vocab);
      take(i, 1);
      ++i;
      continue;
    }
    // As many of the following prompts as fit in one pass.
    size_t j = i, total = 0;
    while (j < prompts.size() && total + prompts[j].tokens.size() <= size_t(kChunk)) total += prompts[j++].tokens.size();
    prefill_packed(prompts.subspan(i, j - i), ids.data() + i, logits ? logits->data() + i * vocab : nullptr);
    take(i, j - i);
    i = j;
  }
}

void CudaRunnerImpl::prefill_packed(std::span<const SlotPrompt> prompts, int* ids, float* logits) {
  const ModelConfig& c = w_->config;
  segments_.clear();
  std::vector<int> tokens, pos, slot;
  for (const SlotPrompt& p : prompts) {
    segments_.push_back({p.slot, int(tokens.size()), int(p.tokens.size())});
    for (size_t t = 0; t < p.tokens.size(); ++t) {
      tokens.push_back(p.tokens[t]);
      pos.push_back(p.n_past + int(t));
      slot.push_back(p.slot);
    }
  }
  upload_rows(tokens, pos, slot);
  run_layers({Pass::Kind::Packed, int(tokens.size()), 0});
  // Only each prompt's last position needs logits: gather those rows.
  const size_t row_bytes = size_t(c.hidden_size) * 2;
  for (size_t k = 0; k < segments_.size(); ++k)
    AWQ_CUDA_CHECK(cudaMemcpyAsync(last_rows_.get() + k * c.hidden_size,
                                   xn_.get() + size_t(segments_[k].start + segments_[k].len - 1) * c.hidden_size,
                                   row_bytes, cudaMemcpyDeviceToDevice, stream_));
  const int n = int(segments_.size());
  lm_head(last_rows_.get(), n);
  cuda::argmax_rows(logits_.get(), n, c.vocab_size, ids_.get(), stream_);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids, ids_.get(), n * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  if (logits)
    AWQ_CUDA_CHECK(cudaMemcpyAsync(logits, logits_.get(), size_t(n) * c.vocab_size * 4, cudaMemcpyDeviceToHost,
                                   stream_));
  // The host vectors above live on this frame; logits_ and ids_ serve the next pass.
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaRunnerImpl::rows_step(int n) {
  auto step = [&] {
    run_layers({Pass::Kind::Rows, n, 0});
    lm_head(0, n);
    cuda::argmax_rows(logits_.get(), n, w_->config.vocab_size, ids_.get(), stream_);
  };
  // A step of n rows depends on n alone (positions, slots and tokens are
  // read from device memory), except with small heads, whose attention is
  // launched per row from host data (segments_); unfused modules stay eager.
  if (!opt_.fused || w_->config.head_dim < 64) return step();
  if (rows_graphs_.empty()) {
    rows_graphs_.assign(size_t(slots_) + 1, nullptr);
    rows_seen_.assign(size_t(slots_) + 1, 0);
  }
  cudaGraphExec_t& graph = rows_graphs_[size_t(n)];
  if (graph) {
    AWQ_CUDA_CHECK(cudaGraphLaunch(graph, stream_));
    return;
  }
  step();
  if (++rows_seen_[size_t(n)] == 2) graph = capture(step);
}

void CudaRunnerImpl::upload_decode_rows(std::span<const DecodeRow> rows) {
  const int n = int(rows.size());
  if (n == 0 || n > slots_) input_error("decode_rows: {} rows for {} sequence slots", n, slots_);
  segments_.clear();
  // Members: the uploads are asynchronous, and the step's caller synchronizes later.
  step_tokens_.resize(rows.size());
  step_pos_.resize(rows.size());
  step_slot_.resize(rows.size());
  for (int i = 0; i < n; ++i) {
    check_slot(rows[i].slot);
    check_span(std::span<const int>(&rows[i].token, 1), rows[i].pos);
    step_tokens_[i] = rows[i].token;
    step_pos_[i] = rows[i].pos;
    step_slot_[i] = rows[i].slot;
    segments_.push_back({rows[i].slot, i, 1});
  }
  upload_rows(step_tokens_, step_pos_, step_slot_);
}

void CudaRunnerImpl::decode_rows(std::span<const DecodeRow> rows, std::vector<int>& ids, std::vector<float>* logits) {
  const int n = int(rows.size()), vocab = w_->config.vocab_size;
  upload_decode_rows(rows);
  rows_step(n);
  ids.resize(size_t(n));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids.data(), ids_.get(), n * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  if (logits) {
    logits->resize(size_t(n) * vocab);
    AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data(), logits_.get(), logits->size() * 4, cudaMemcpyDeviceToHost, stream_));
  }
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the host vectors above live on this frame
}

bool CudaRunnerImpl::decode_rows_top(std::span<const DecodeRow> rows, std::span<const int> counts, std::vector<int>& ids,
                                     std::vector<LogitPool>& pools) {
  if (!logit_pool_) return false;
  if (counts.size() != rows.size()) runtime_error("decode_rows_top: {} counts for {} rows", counts.size(), rows.size());
  const int n = int(rows.size());
  upload_decode_rows(rows);
  rows_step(n);
  ids.resize(size_t(n));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids.data(), ids_.get(), n * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  take_pools(counts, pools);  // synchronizes the stream
  return true;
}

}  // namespace awq::cuda_runner_internal
