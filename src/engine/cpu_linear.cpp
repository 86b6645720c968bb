#include "src/engine/cpu_linear.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "src/common/error.h"
#include "src/common/half.h"

namespace awq {

namespace {
// Rows dequantized together in the tiled (many-token) path; the tile kernel takes 4.
constexpr int kTileRows = 4;
// Tokens per pass over the weights in the tiled path: their activations stay in cache.
constexpr int kTokenBlock = 64;
}  // namespace

Int4Matrix repack_int4(const QuantLinear& q) {
  if (q.in_features % 32 != 0 || q.group_size % 32 != 0)
    input_error("int4 linear with in_features {} and group_size {}: the CPU backend needs multiples of 32",
                q.in_features, q.group_size);
  Int4Matrix m;
  m.rows = q.out_features;
  m.cols = q.in_features;
  m.group_size = q.group_size;
  m.q.assign(size_t(m.rows) * m.cols / 2, 0);
  for (int r = 0; r < m.rows; ++r) {
    uint8_t* row = m.q.data() + size_t(r) * (m.cols / 2);
    for (int i = 0; i < m.cols; i += 32)
      for (int j = 0; j < 16; ++j) row[i / 2 + j] = uint8_t(q.q(r, i + j) | (q.q(r, i + 16 + j) << 4));
  }
  m.scales = q.scales;
  m.zeros = q.zeros;
  return m;
}

CpuLinear prepare_linear(const Linear& lin) {
  CpuLinear c;
  c.in = lin.in_features;
  c.out = lin.out_features;
  if (lin.quant) {
    c.int4 = repack_int4(*lin.quant);
    c.bias = lin.quant->bias;
  } else {
    c.dense = lin.dense;
    c.bias = lin.bias;
  }
  return c;
}

LinearGroup prepare_group(std::span<const Linear* const> parts) {
  LinearGroup g;
  bool stackable = true;
  for (const Linear* p : parts) {
    g.widths.push_back(p->out_features);
    stackable = stackable && p->quant && p->in_features == parts[0]->in_features &&
                p->quant->group_size == parts[0]->quant->group_size;
  }
  if (!stackable || parts.size() < 2) {
    for (const Linear* p : parts) g.mats.push_back(prepare_linear(*p));
    return g;
  }
  CpuLinear c;
  c.in = parts[0]->in_features;
  Int4Matrix m;
  for (const Linear* p : parts) {
    const Int4Matrix part = repack_int4(*p->quant);
    m.cols = part.cols;
    m.group_size = part.group_size;
    m.rows += part.rows;
    m.q.insert(m.q.end(), part.q.begin(), part.q.end());
    m.scales.insert(m.scales.end(), part.scales.begin(), part.scales.end());
    m.zeros.insert(m.zeros.end(), part.zeros.begin(), part.zeros.end());
    c.out += part.rows;
  }
  bool any_bias = false;
  for (const Linear* p : parts) any_bias = any_bias || !p->quant->bias.empty();
  if (any_bias)
    for (const Linear* p : parts) {
      const std::vector<float>& b = p->quant->bias;
      if (b.empty()) c.bias.insert(c.bias.end(), size_t(p->out_features), 0.f);
      else c.bias.insert(c.bias.end(), b.begin(), b.end());
    }
  c.int4 = std::move(m);
  g.mats.push_back(std::move(c));
  return g;
}

CpuLinear prepare_dense(const DenseMatrix& m) {
  CpuLinear c;
  c.in = m.cols;
  c.out = m.rows;
  c.dense = m;
  return c;
}

CpuLinear prepare_int8(const DenseMatrix& m, ThreadPool& pool) {
  CpuLinear c;
  c.in = m.cols;
  c.out = m.rows;
  Int8Matrix& q = c.int8.emplace();
  q.rows = m.rows;
  q.cols = m.cols;
  const int nb = q.blocks();
  q.q.resize(size_t(q.rows) * nb * kInt8Block);
  q.scales.resize(size_t(q.rows) * nb);
  // Once at load, but 28M values for SmolLM2: worth the threads.
  constexpr int kRowsPerTask = 256;
  pool.run((q.rows + kRowsPerTask - 1) / kRowsPerTask, [&](int task, int) {
    std::vector<float> row(size_t(m.cols));
    for (int r = task * kRowsPerTask; r < std::min(q.rows, (task + 1) * kRowsPerTask); ++r) {
      dense_row_to_float(m, r, row.data());
      quantize_int8_row_f16(row.data(), m.cols, q.q.data() + size_t(r) * nb * kInt8Block,
                            q.scales.data() + size_t(r) * nb);
    }
  });
  return c;
}

void dense_row_to_float(const DenseMatrix& m, int r, float* out) {
  const size_t n = size_t(m.cols);
  switch (m.dtype) {
    case DType::F16: {
      const auto* p = reinterpret_cast<const uint16_t*>(m.data) + size_t(r) * n;
      for (size_t i = 0; i < n; ++i) out[i] = fp16_to_float(p[i]);
      return;
    }
    case DType::BF16: {
      const auto* p = reinterpret_cast<const uint16_t*>(m.data) + size_t(r) * n;
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_float(p[i]);
      return;
    }
    case DType::F32:
      std::memcpy(out, m.data + size_t(r) * n * 4, n * 4);
      return;
    default:
      runtime_error("dense matrix of dtype {} is not supported", dtype_name(m.dtype));
  }
}

void LinearRunner::run(const CpuLinear& lin, const float* x, int T, float* y) {
  const bool direct_kind = lin.int4 || lin.dense.dtype == DType::F16;
  if (lin.int8 && T <= kDirectMaxTokens) run_int8(lin, x, T, y);
  else if (direct_kind && T <= kDirectMaxTokens) run_direct(lin, x, T, y);
  else run_tiled(lin, x, T, y);
  if (!lin.bias.empty())
    for (int t = 0; t < T; ++t)
      for (int o = 0; o < lin.out; ++o) y[size_t(t) * lin.out + o] += lin.bias[o];
}

void LinearRunner::run(const LinearGroup& group, const float* x, int T, std::span<float* const> outs) {
  if (!group.stacked()) {
    for (size_t p = 0; p < group.mats.size(); ++p) run(group.mats[p], x, T, outs[p]);
    return;
  }
  const CpuLinear& m = group.mats[0];
  stacked_out_.resize(size_t(T) * m.out);
  run(m, x, T, stacked_out_.data());
  for (int t = 0; t < T; ++t) {
    const float* src = stacked_out_.data() + size_t(t) * m.out;
    for (size_t p = 0; p < group.widths.size(); ++p) {
      std::memcpy(outs[p] + size_t(t) * group.widths[p], src, size_t(group.widths[p]) * sizeof(float));
      src += group.widths[p];
    }
  }
}

// x itself when it is 64-byte aligned, else a copy that is. The activations
// are std::vectors (16-byte aligned); the direct kernels load x in 64-byte
// vectors at multiples of 64 bytes, and with an unaligned x every one of those
// loads splits a cache line, which made 2-4 tokens ~1.5x slower.
const float* LinearRunner::aligned_x(const float* x, size_t n) {
  constexpr uintptr_t kAlign = 64;
  if (reinterpret_cast<uintptr_t>(x) % kAlign == 0) return x;
  x_aligned_.resize(n + kAlign / sizeof(float));
  const uintptr_t p = (reinterpret_cast<uintptr_t>(x_aligned_.data()) + kAlign - 1) / kAlign * kAlign;
  float* out = reinterpret_cast<float*>(p);
  std::memcpy(out, x, n * sizeof(float));
  return out;
}

namespace {

// The direct kernels' split of `rows` output rows over the pool: about 4
// ranges per thread, each a multiple of 8 rows; fn(r0, r1) per non-empty range.
template <typename Fn>
void for_row_ranges(ThreadPool& pool, int rows, Fn fn) {
  const int tasks = std::min(rows / 8 + 1, pool.size() * 4);
  const int per_task = ((rows + tasks - 1) / tasks + 7) / 8 * 8;
  pool.run(tasks, [&](int task, int) {
    const int r0 = task * per_task, r1 = std::min(rows, r0 + per_task);
    if (r0 < r1) fn(r0, r1);
  });
}

}  // namespace

// One pass over the weights for all T (<= 4) tokens; threads own row ranges.
void LinearRunner::run_direct(const CpuLinear& lin, const float* x_in, int T, float* y) {
  const float* x = aligned_x(x_in, size_t(T) * lin.in);
  const int rows = lin.out;
  if (lin.int4) {
    const Int4Matrix& w = *lin.int4;
    const int ng = w.groups();
    xsum_.assign(size_t(T) * ng, 0.f);
    for (int t = 0; t < T; ++t)
      for (int g = 0; g < ng; ++g) {
        float s = 0.f;
        for (int i = g * w.group_size; i < (g + 1) * w.group_size; ++i) s += x[size_t(t) * w.cols + i];
        xsum_[size_t(t) * ng + g] = s;
      }
    for_row_ranges(pool_, rows, [&](int r0, int r1) { k_.int4_rows(w, r0, r1, x, T, xsum_.data(), y, rows); });
  } else {
    const auto* w = reinterpret_cast<const uint16_t*>(lin.dense.data);
    for_row_ranges(pool_, rows, [&](int r0, int r1) { k_.f16_rows(w, rows, lin.in, r0, r1, x, T, y, rows); });
  }
}

// The int8 lm_head for T <= 4 tokens (decode): x is quantized to the same
// 32-blocks (a few KB, one thread), then every weight row is read once for
// all T tokens, as in run_direct. The multiply is int8 x int8 with int32
// block sums, the cheapest per byte of weight, so the step stays bound by
// reading the weights. More tokens (perplexity's all-logits windows) go
// through run_tiled: there each row serves many tokens, so reading it is
// cheap and fp32 tiles with unquantized x are as fast and more accurate.
void LinearRunner::run_int8(const CpuLinear& lin, const float* x, int T, float* y) {
  quantize_int8_activations(x, T, lin.in, xq_);
  const int rows = lin.out;
  for_row_ranges(pool_, rows, [&](int r0, int r1) { k_.int8_rows(*lin.int8, r0, r1, xq_, y, rows); });
}

// Many tokens: each thread dequantizes kTileRows rows to fp32 once per block
// of kTokenBlock tokens and multiplies them with every token of the block.
void LinearRunner::run_tiled(const CpuLinear& lin, const float* x, int T, float* y) {
  const int rows = lin.out, K = lin.in;
  scratch_.resize(size_t(pool_.size()));
  for (auto& s : scratch_) s.resize(size_t(kTileRows) * K);
  const int row_tiles = (rows + kTileRows - 1) / kTileRows;
  const int tiles_per_task = std::max(1, row_tiles / (pool_.size() * 8));
  const int tasks = (row_tiles + tiles_per_task - 1) / tiles_per_task;
  for (int t0 = 0; t0 < T; t0 += kTokenBlock) {
    const int tb = std::min(kTokenBlock, T - t0);
    const float* xb = x + size_t(t0) * K;
    float* yb = y + size_t(t0) * rows;
    pool_.run(tasks, [&](int task, int thread) {
      float* buf = scratch_[size_t(thread)].data();
      const int first = task * tiles_per_task, last = std::min(row_tiles, first + tiles_per_task);
      for (int tile = first; tile < last; ++tile) {
        const int r0 = tile * kTileRows, n = std::min(kTileRows, rows - r0);
        if (lin.int4) k_.int4_dequant(*lin.int4, r0, n, buf);
        else if (lin.int8) dequantize_int8_rows(*lin.int8, r0, n, buf);
        else if (lin.dense.dtype == DType::F16)
          k_.f16_to_float(reinterpret_cast<const uint16_t*>(lin.dense.data) + size_t(r0) * K, n * K, buf);
        else
          for (int r = 0; r < n; ++r) dense_row_to_float(lin.dense, r0 + r, buf + size_t(r) * K);
        k_.float_tile(buf, n, K, xb, tb, yb, rows, r0);
      }
    });
  }
}

}  // namespace awq
