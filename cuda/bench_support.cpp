#include "cuda/bench_support.h"

#include <algorithm>
#include <random>

#include "cuda/copy_kernel.h"
#include "cuda/cublas_gemm.h"
#include "cuda/cuda_check.h"
#include "cuda/device_buffer.h"
#include "src/common/error.h"
#include "src/common/half.h"

namespace awq::cuda {
namespace {

// Kept free for cuBLAS's workspace, the runner's growth and fragmentation.
constexpr size_t kReserveBytes = size_t(512) << 20;
// The rotation of layer copies spans at least this many times the L2.
constexpr size_t kL2Multiple = 4;

// A stream with two events around the work it is given.
class EventTimer {
 public:
  explicit EventTimer(cudaStream_t s) : stream_(s) {
    AWQ_CUDA_CHECK(cudaEventCreate(&start_));
    AWQ_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~EventTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;

  template <typename Work>
  double time_ms(Work&& work) {
    AWQ_CUDA_CHECK(cudaEventRecord(start_, stream_));
    work();
    AWQ_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    AWQ_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    AWQ_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return ms;
  }

 private:
  cudaStream_t stream_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

struct Stream {
  cudaStream_t s = nullptr;
  Stream() { AWQ_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(s); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
};

// Fills fp16 buffers by tiling one block of random values (uniform in
// [-scale, scale]): timing needs realistic bit patterns, not independent
// values, and a host loop over gigabytes would dominate the run.
class RandomFp16Filler {
 public:
  RandomFp16Filler(float scale, unsigned seed) : block_(kBlock) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-scale, scale);
    std::vector<uint16_t> host(kBlock);
    for (uint16_t& h : host) h = float_to_fp16(dist(rng));
    block_.upload(host);
  }
  void fill(uint16_t* dst, size_t count, cudaStream_t stream) const {
    for (size_t done = 0; done < count; done += kBlock) {
      const size_t n = std::min(kBlock, count - done);
      AWQ_CUDA_CHECK(cudaMemcpyAsync(dst + done, block_.get(), n * sizeof(uint16_t), cudaMemcpyDeviceToDevice, stream));
    }
  }

 private:
  static constexpr size_t kBlock = size_t(1) << 20;
  DeviceBuffer<uint16_t> block_;
};

}  // namespace

DeviceFacts current_device_facts() {
  int dev = 0;
  AWQ_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  AWQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  return {prop.name, prop.multiProcessorCount, size_t(prop.l2CacheSize)};
}

CopyTimes time_device_copies(size_t bytes, int reps) {
  if (bytes % 16 != 0) runtime_error("device copy of {} bytes: not a multiple of 16", bytes);
  DeviceBuffer<uint8_t> src(bytes), dst(bytes);
  device_memset(src.get(), 0x5a, bytes);
  Stream stream;
  EventTimer timer(stream.s);
  auto memcpy_once = [&] {
    AWQ_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream.s));
  };
  auto kernel_once = [&] { copy_kernel(dst.get(), src.get(), bytes, stream.s); };
  CopyTimes t;
  t.bytes = bytes;
  timer.time_ms(memcpy_once);
  timer.time_ms(kernel_once);
  for (int r = 0; r < reps; ++r) {
    t.memcpy_ms.push_back(timer.time_ms(memcpy_once));
    t.kernel_ms.push_back(timer.time_ms(kernel_once));
  }
  return t;
}

struct DenseLinearsBench::Impl {
  std::vector<DenseGemmShape> layer;
  int layers = 0;
  DenseGemmShape lm_head;
  int max_m = 0;
  Stream stream;
  std::unique_ptr<Cublas> blas;
  std::vector<DeviceBuffer<uint16_t>> copies;  // one layer's weights each, shapes back to back
  DeviceBuffer<uint16_t> lm_head_w, x, y;

  void pass(int m) {
    for (int l = 0; l < layers; ++l) {
      const uint16_t* w = copies[size_t(l) % copies.size()].get();
      for (const DenseGemmShape& g : layer) {
        blas->gemm(Act::F16, w, x.get(), y.get(), m, g.n, g.k);
        w += size_t(g.n) * g.k;
      }
    }
    blas->gemm(Act::F16, lm_head_w.get(), x.get(), y.get(), 1, lm_head.n, lm_head.k);
  }
};

DenseLinearsBench::DenseLinearsBench(const std::vector<DenseGemmShape>& layer, int layers, DenseGemmShape lm_head,
                                     int max_m)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.layer = layer;
  d.layers = layers;
  d.lm_head = lm_head;
  d.max_m = max_m;
  size_t layer_weights = 0, max_n = 0, max_k = size_t(lm_head.k);
  for (const DenseGemmShape& g : layer) {
    layer_weights += size_t(g.n) * g.k;
    max_n = std::max(max_n, size_t(g.n));
    max_k = std::max(max_k, size_t(g.k));
  }
  const size_t x_count = size_t(max_m) * max_k, y_count = std::max(size_t(max_m) * max_n, size_t(lm_head.n));
  const size_t layer_bytes = layer_weights * sizeof(uint16_t);
  const size_t fixed_bytes = (size_t(lm_head.n) * lm_head.k + x_count + y_count) * sizeof(uint16_t);
  size_t free_bytes = 0, total_bytes = 0;
  AWQ_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const size_t budget = free_bytes > kReserveBytes + fixed_bytes ? free_bytes - kReserveBytes - fixed_bytes : 0;
  const size_t wanted = (kL2Multiple * current_device_facts().l2_bytes + layer_bytes - 1) / std::max<size_t>(layer_bytes, 1);
  const size_t copies = std::min({wanted, size_t(layers), budget / std::max<size_t>(layer_bytes, 1)});
  if (copies == 0)
    device_error("the fp16 baseline needs {:.2f} GiB for one layer and the lm_head, {:.2f} GiB free",
                 double(layer_bytes + fixed_bytes) / (1 << 30), double(free_bytes) / (1 << 30));

  d.blas = std::make_unique<Cublas>(d.stream.s);
  const RandomFp16Filler filler(0.05f, 42);
  for (size_t c = 0; c < copies; ++c) {
    d.copies.emplace_back(layer_weights);
    filler.fill(d.copies.back().get(), layer_weights, d.stream.s);
  }
  d.lm_head_w = DeviceBuffer<uint16_t>(size_t(lm_head.n) * lm_head.k);
  filler.fill(d.lm_head_w.get(), d.lm_head_w.size(), d.stream.s);
  d.x = DeviceBuffer<uint16_t>(x_count);
  filler.fill(d.x.get(), d.x.size(), d.stream.s);
  d.y = DeviceBuffer<uint16_t>(y_count);
  AWQ_CUDA_CHECK(cudaStreamSynchronize(d.stream.s));
}

DenseLinearsBench::~DenseLinearsBench() = default;

int DenseLinearsBench::weight_copies() const { return int(impl_->copies.size()); }

std::vector<double> DenseLinearsBench::pass_ms(int m, int reps) {
  Impl& d = *impl_;
  if (m < 1 || m > d.max_m) runtime_error("fp16 baseline: m = {} outside [1, {}]", m, d.max_m);
  EventTimer timer(d.stream.s);
  timer.time_ms([&] { d.pass(m); });
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) ms.push_back(timer.time_ms([&] { d.pass(m); }));
  return ms;
}

}  // namespace awq::cuda
