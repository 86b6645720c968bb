// Minimal safetensors writer, used by the converter, the synthetic-checkpoint
// tool and by tests that build (also deliberately broken) checkpoints.
#pragma once
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "src/common/dtype.h"

namespace awq {

struct TensorData {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // little-endian, row-major
};

// Serializes tensors (sorted by name, packed in that order, 8-byte aligned
// header as the reference writer does) with optional __metadata__.
std::vector<uint8_t> serialize_safetensors(const std::map<std::string, TensorData>& tensors,
                                           const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

template <typename T>
TensorData make_tensor(DType dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
  TensorData t{dtype, std::move(shape), {}};
  t.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

}  // namespace awq
