// safetensors reader: one file or a sharded set (model.safetensors.index.json),
// memory-mapped, validated strictly at open so that later code can trust every
// TensorView. Format: 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {...}},
// then the data blob; offsets are relative to the blob.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "src/common/dtype.h"
#include "src/common/mapped_file.h"

namespace awq {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapped file
  size_t nbytes = 0;
  std::string file;  // file name, for messages

  int64_t numel() const;
  std::string shape_str() const;  // "[4096, 512]"
};

class SafetensorsFile {
 public:
  // Throws Error(Input) with a message naming file (and tensor) on any defect.
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return file_->path(); }

 private:
  std::shared_ptr<MappedFile> file_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint directory: model.safetensors, or the shards an
// index names (every tensor the index lists must exist in the shard it names).
class Checkpoint {
 public:
  static Checkpoint open(const std::filesystem::path& model_dir);

  bool has(const std::string& name) const;
  const TensorView* find(const std::string& name) const;
  // Throws Error(Input): "<dir>: tensor <name> is missing".
  const TensorView& get(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::filesystem::path& dir() const { return dir_; }
  size_t total_bytes() const;

 private:
  std::filesystem::path dir_;
  std::vector<SafetensorsFile> files_;
  std::map<std::string, TensorView> tensors_;
};

}  // namespace awq
