// Checkpoint: the tensors of a model directory, from one safetensors file or
// from the shards that model.safetensors.index.json names.
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <vector>

#include "src/common/error.h"
#include "src/model/json_util.h"
#include "src/model/safetensors.h"

namespace awq {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_with_extension(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ext) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

[[noreturn]] void no_safetensors_error(const fs::path& dir) {
  std::vector<std::string> others;
  for (const char* ext : {".bin", ".pt", ".pth", ".gguf", ".ggml"})
    for (const auto& p : files_with_extension(dir, ext)) others.push_back(p.filename().string());
  if (!others.empty())
    input_error("{}: no .safetensors files, only {}; awqrun reads safetensors only", dir.string(),
                fmt::join(others, ", "));
  input_error("{}: no model.safetensors or other .safetensors file found", dir.string());
}

// weight_map of the index: tensor -> shard file name (a plain name inside the directory).
std::map<std::string, std::string> read_weight_map(const fs::path& index_path) {
  const nlohmann::json index = load_json_file(index_path);
  const std::string src = index_path.string();
  if (!index.is_object()) input_error("{}: not a JSON object", src);
  const auto wm = index.find("weight_map");
  if (wm == index.end()) input_error("{}: no \"weight_map\"", src);
  if (!wm->is_object() || wm->empty()) input_error("{}: \"weight_map\" must be a non-empty object", src);
  std::map<std::string, std::string> out;
  for (const auto& [tensor, file] : wm->items()) {
    if (!file.is_string()) input_error("{}: weight_map entry for {} is not a file name", src, tensor);
    const std::string name = file.get<std::string>();
    if (name.empty() || fs::path(name).filename() != fs::path(name))
      input_error("{}: weight_map entry for {} names \"{}\", not a file in the model directory", src, tensor, name);
    out.emplace(tensor, name);
  }
  return out;
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& model_dir) {
  std::error_code ec;
  if (!fs::exists(model_dir, ec)) input_error("model directory {} does not exist", model_dir.string());
  if (!fs::is_directory(model_dir, ec)) input_error("{} is not a directory", model_dir.string());

  Checkpoint ck;
  ck.dir_ = model_dir;
  const fs::path index_path = model_dir / "model.safetensors.index.json";
  std::map<std::string, std::string> weight_map;
  std::vector<fs::path> shard_paths;
  if (fs::exists(index_path)) {
    weight_map = read_weight_map(index_path);
    std::set<std::string> shards;
    for (const auto& [tensor, file] : weight_map) {
      if (shards.insert(file).second && !fs::is_regular_file(model_dir / file))
        input_error("{}: shard {} (listed for tensor {}) is missing", index_path.string(), file, tensor);
    }
    for (const auto& s : shards) shard_paths.push_back(model_dir / s);
  } else if (fs::is_regular_file(model_dir / "model.safetensors")) {
    shard_paths.push_back(model_dir / "model.safetensors");
  } else {
    shard_paths = files_with_extension(model_dir, ".safetensors");
    if (shard_paths.empty()) no_safetensors_error(model_dir);
    if (shard_paths.size() > 1)
      input_error("{}: {} .safetensors files but no model.safetensors.index.json to say how they fit together",
                  model_dir.string(), shard_paths.size());
  }

  for (const auto& p : shard_paths) {
    ck.files_.push_back(SafetensorsFile::open(p));
    for (const auto& [name, view] : ck.files_.back().tensors()) {
      const auto [it, inserted] = ck.tensors_.emplace(name, view);
      if (!inserted)
        input_error("{}: tensor {} is stored in both {} and {}", model_dir.string(), name, it->second.file,
                    view.file);
    }
  }
  for (const auto& [tensor, file] : weight_map) {
    const auto it = ck.tensors_.find(tensor);
    if (it == ck.tensors_.end() || it->second.file != file)
      input_error("{}: tensor {} is absent, although {} lists it", (model_dir / file).string(), tensor,
                  index_path.filename().string());
  }
  return ck;
}

bool Checkpoint::has(const std::string& name) const { return tensors_.count(name) != 0; }

const TensorView* Checkpoint::find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorView& Checkpoint::get(const std::string& name) const {
  const TensorView* t = find(name);
  if (!t) input_error("{}: tensor {} is missing", dir_.string(), name);
  return *t;
}

size_t Checkpoint::total_bytes() const {
  size_t n = 0;
  for (const auto& [name, t] : tensors_) n += t.nbytes;
  return n;
}

}  // namespace awq
