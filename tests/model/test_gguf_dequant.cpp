// Block dequantization against gguf-py's quants.dequantize of random blocks
// (tests/data/gguf/blocks.json, written by scripts/verify_conversion.py
// goldens), and the ggml type table against gguf-py's GGML_QUANT_SIZES.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tools/gguf_convert/ggml_types.h"
#include "tools/gguf_convert/gguf_dequant.h"

using namespace awq;

namespace {

nlohmann::json load_goldens() {
  std::ifstream in(std::string(AWQRUN_SOURCE_DIR) + "/tests/data/gguf/blocks.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

}  // namespace

TEST_CASE("ggml type table matches gguf-py", "[gguf]") {
  const nlohmann::json g = load_goldens();
  int checked = 0;
  for (const auto& [name, s] : g["type_sizes"].items()) {
    const auto info = ggml_type_info(s["id"].get<uint32_t>());
    if (!info) continue;  // gguf-py may know newer types than this build
    INFO(name);
    CHECK(std::string(info->name) == name);
    CHECK(info->block_elems == s["block_elems"].get<int>());
    CHECK(info->block_bytes == s["block_bytes"].get<int>());
    ++checked;
  }
  CHECK(checked >= 30);
}

TEST_CASE("dequantization matches gguf-py bit for bit", "[gguf]") {
  const nlohmann::json g = load_goldens();
  std::vector<std::string> seen;
  for (const auto& c : g["cases"]) {
    const std::string type = c["type"];
    INFO(type);
    seen.push_back(type);
    const uint32_t id = c["type_id"];
    REQUIRE(can_dequantize(id));
    const std::vector<uint8_t> raw = from_hex(c["hex"]);
    const int64_t n = c["n"];
    const auto info = ggml_type_info(id);
    REQUIRE(raw.size() == size_t(n / info->block_elems * info->block_bytes));
    std::vector<float> got(size_t(n), -12345.f);
    dequantize(id, raw.data(), n, got.data());
    const auto& want = c["values"];
    int mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float w = want[size_t(i)].get<float>();
      if (std::memcmp(&w, &got[size_t(i)], 4) != 0 && ++mismatches <= 3)
        UNSCOPED_INFO("value " << i << ": got " << got[size_t(i)] << ", want " << w);
    }
    CHECK(mismatches == 0);
  }
  for (const char* t : {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    CHECK(std::find(seen.begin(), seen.end(), t) != seen.end());
}

TEST_CASE("types without a dequantizer are reported, not guessed", "[gguf]") {
  CHECK_FALSE(can_dequantize(uint32_t(GgmlType::IQ2_XXS)));
  CHECK_FALSE(can_dequantize(uint32_t(GgmlType::Q2_K)));
  CHECK(can_dequantize(uint32_t(GgmlType::F32)));
}
