// Shared helpers of the model tests: a self-deleting temp directory, file
// writers, a probe that captures the awq::Error a call throws, and random
// quantized linears for the repack tests.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "src/common/error.h"
#include "src/common/half.h"
#include "src/model/quant_linear.h"

namespace awq::test {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("awqrun-model-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// A safetensors file from a hand-written header: 8-byte length (or `declared_len`), header, blob of zeros.
inline std::string raw_safetensors(const std::string& header, size_t blob_bytes, int64_t declared_len = -1) {
  const uint64_t n = declared_len < 0 ? header.size() : uint64_t(declared_len);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char(uint8_t(n >> (8 * i)));
  return out + header + std::string(blob_bytes, '\0');
}

struct Failure {
  bool thrown = false;
  ErrorKind kind = ErrorKind::Runtime;
  std::string message;
};

inline Failure failure_of(const std::function<void()>& f) {
  Failure r;
  try {
    f();
  } catch (const Error& e) {
    r = {true, e.kind(), e.what()};
  } catch (const std::exception& e) {
    r = {true, ErrorKind::Runtime, std::string("non-awq exception: ") + e.what()};
  }
  return r;
}

// Random linear whose zero points take every value 0..15 (fp16 scales
// 0.004-0.02, bias in [-0.5, 0.5] when wanted).
inline QuantLinear random_full_range_linear(int in, int out, int group, bool bias, std::mt19937& rng) {
  QuantLinear l = QuantLinear::allocate(in, out, group, bias);
  std::uniform_int_distribution<int> byte(0, 255), zero(0, 15);
  std::uniform_real_distribution<float> scale(0.004f, 0.02f), b(-0.5f, 0.5f);
  for (auto& q : l.qweight) q = uint8_t(byte(rng));
  for (auto& z : l.zeros) z = uint8_t(zero(rng));
  for (auto& s : l.scales) s = float_to_fp16(scale(rng));
  for (auto& x : l.bias) x = b(rng);
  return l;
}

}  // namespace awq::test
