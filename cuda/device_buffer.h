// Owning device allocation (cudaMalloc/cudaFree) with typed access; the
// header stays free of CUDA types so host-only code can hold buffers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace awq::cuda {

void* device_alloc(size_t bytes);  // throws Error(Device) on failure
void device_free(void* p) noexcept;
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void device_memset(void* dst, int value, size_t bytes);

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count), ptr_(count ? static_cast<T*>(device_alloc(count * sizeof(T))) : nullptr) {}
  explicit DeviceBuffer(std::span<const T> host) : DeviceBuffer(host.size()) { upload(host); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : count_(std::exchange(o.count_, 0)), ptr_(std::exchange(o.ptr_, nullptr)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      device_free(ptr_);
      count_ = std::exchange(o.count_, 0);
      ptr_ = std::exchange(o.ptr_, nullptr);
    }
    return *this;
  }
  ~DeviceBuffer() { device_free(ptr_); }

  T* get() { return ptr_; }
  const T* get() const { return ptr_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  void upload(std::span<const T> host) { copy_to_device(ptr_, host.data(), host.size() * sizeof(T)); }
  std::vector<T> download() const {
    std::vector<T> h(count_);
    copy_to_host(h.data(), ptr_, bytes());
    return h;
  }

 private:
  size_t count_ = 0;
  T* ptr_ = nullptr;
};

}  // namespace awq::cuda
