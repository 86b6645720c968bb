// safetensors reader: valid single and sharded checkpoints, and a table of
// corrupt or inconsistent checkpoints built here, each with its own message.
#include <catch2/catch.hpp>

#include <cstring>

#include "src/model/safetensors.h"
#include "src/model/safetensors_writer.h"
#include "tests/model/model_test_util.h"

using namespace awq;
using namespace awq::test;
namespace fs = std::filesystem;

namespace {

TensorData f32_tensor(std::vector<int64_t> shape, float start) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + float(i) * 0.5f;
  return make_tensor(DType::F32, std::move(shape), v);
}

std::string serialized(const std::map<std::string, TensorData>& t) {
  const auto bytes = serialize_safetensors(t);
  return std::string(bytes.begin(), bytes.end());
}

const std::string kEntry = R"("dtype":"F32","shape":[2,2],"data_offsets":[0,16])";

void write_index(const TempDir& dir, const std::string& text) { write_bytes(dir / "model.safetensors.index.json", text); }

struct CorruptCase {
  const char* what;
  std::function<void(const TempDir&)> make;
  const char* expected;  // substring of the message
};

// Single-file cases write model.safetensors; directory cases build what they need.
std::vector<CorruptCase> corrupt_cases() {
  auto file = [](std::string bytes) {
    return [bytes](const TempDir& d) { write_bytes(d / "model.safetensors", bytes); };
  };
  auto header = [file](std::string h, size_t blob) { return file(raw_safetensors(h, blob)); };
  return {
      {"empty file", file(""), "file is empty"},
      {"shorter than 8 bytes", file("abcde"), "too short for a safetensors header"},
      {"header length beyond file", file(raw_safetensors("{}", 0, 4000)), "exceeds the file size"},
      {"absurd header length", file(raw_safetensors("{}", 0, int64_t(200) << 20)), "implausibly large"},
      {"invalid JSON", header(R"({"a": {"dtype": )", 0), "invalid JSON"},
      {"header is a list", header("[1, 2]", 0), "header is not a JSON object"},
      {"entry not an object", header(R"({"a": 5})", 0), "tensor a: header entry is not an object"},
      {"missing dtype", header(R"({"a":{"shape":[2,2],"data_offsets":[0,16]}})", 16), "tensor a: missing dtype"},
      {"dtype not a string", header(R"({"a":{"dtype":7,"shape":[2,2],"data_offsets":[0,16]}})", 16),
       "dtype must be a string"},
      {"unknown dtype", header(R"({"a":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}})", 16),
       "unknown dtype \"F8_E4M3\""},
      {"missing shape", header(R"({"a":{"dtype":"F32","data_offsets":[0,16]}})", 16), "tensor a: missing shape"},
      {"shape not a list", header(R"({"a":{"dtype":"F32","shape":4,"data_offsets":[0,16]}})", 16),
       "shape must be a list"},
      {"negative dimension", header(R"({"a":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}})", 16),
       "not a non-negative integer"},
      {"fractional dimension", header(R"({"a":{"dtype":"F32","shape":[2.5,2],"data_offsets":[0,16]}})", 16),
       "not a non-negative integer"},
      {"missing data_offsets", header(R"({"a":{"dtype":"F32","shape":[2,2]}})", 16), "missing data_offsets"},
      {"three data_offsets", header(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8,16]}})", 16),
       "data_offsets must be two non-negative integers"},
      {"string data_offsets", header(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":["0","16"]}})", 16),
       "data_offsets must be two non-negative integers"},
      {"begin after end", header(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}})", 16),
       "end before they begin"},
      {"offsets beyond the data", header(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", 16),
       "beyond the 16-byte data section"},
      {"truncated real file",
       [](const TempDir& d) {
         const std::string s = serialized({{"w", f32_tensor({4, 4}, 1.f)}});
         write_bytes(d / "model.safetensors", s.substr(0, s.size() - 10));
       },
       "truncated file?"},
      {"overlapping tensors",
       header("{\"a\":{" + kEntry + "},\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}", 24),
       "tensors a and b overlap"},
      {"hole between tensors",
       header("{\"a\":{" + kEntry + "},\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[20,36]}}", 36),
       "hole in the data section"},
      {"trailing bytes", header("{\"a\":{" + kEntry + "}}", 20), "trailing bytes"},
      {"byte length vs shape", header(R"({"a":{"dtype":"F16","shape":[2,4],"data_offsets":[0,12]}})", 12),
       "shape [2, 4] x F16 needs 16 bytes but data_offsets cover 12"},
      {"duplicate tensor name",
       header("{\"a\":{" + kEntry + "},\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]}}", 32),
       "duplicate key \"a\""},
      {"metadata not an object", header("{\"__metadata__\":[\"x\"],\"a\":{" + kEntry + "}}", 16),
       "__metadata__ must be an object of strings"},
      {"metadata value not a string", header("{\"__metadata__\":{\"format\":1},\"a\":{" + kEntry + "}}", 16),
       "__metadata__ value of \"format\" is not a string"},
      {"only pytorch weights",
       [](const TempDir& d) { write_bytes(d / "pytorch_model.bin", "not really"); },
       "pytorch_model.bin; awqrun reads safetensors only"},
      {"no weights at all", [](const TempDir& d) { write_bytes(d / "config.json", "{}"); },
       "no model.safetensors or other .safetensors file"},
      {"two files without index",
       [](const TempDir& d) {
         write_bytes(d / "a.safetensors", serialized({{"x", f32_tensor({2}, 0.f)}}));
         write_bytes(d / "b.safetensors", serialized({{"y", f32_tensor({2}, 0.f)}}));
       },
       "no model.safetensors.index.json"},
      {"index not JSON", [](const TempDir& d) { write_index(d, "{weight_map"); }, "invalid JSON"},
      {"index without weight_map", [](const TempDir& d) { write_index(d, R"({"metadata":{}})"); },
       "no \"weight_map\""},
      {"index entry not a name", [](const TempDir& d) { write_index(d, R"({"weight_map":{"x":3}})"); },
       "weight_map entry for x is not a file name"},
      {"index names a path outside", [](const TempDir& d) { write_index(d, R"({"weight_map":{"x":"../x.st"}})"); },
       "not a file in the model directory"},
      {"shard missing",
       [](const TempDir& d) {
         write_bytes(d / "s1.safetensors", serialized({{"x", f32_tensor({2}, 0.f)}}));
         write_index(d, R"({"weight_map":{"x":"s1.safetensors","y":"s2.safetensors"}})");
       },
       "shard s2.safetensors (listed for tensor y) is missing"},
      {"tensor absent from its shard",
       [](const TempDir& d) {
         write_bytes(d / "s1.safetensors", serialized({{"x", f32_tensor({2}, 0.f)}}));
         write_index(d, R"({"weight_map":{"x":"s1.safetensors","y":"s1.safetensors"}})");
       },
       "s1.safetensors: tensor y is absent"},
      {"tensor in two shards",
       [](const TempDir& d) {
         write_bytes(d / "s1.safetensors", serialized({{"x", f32_tensor({2}, 0.f)}}));
         write_bytes(d / "s2.safetensors", serialized({{"x", f32_tensor({2}, 1.f)}, {"y", f32_tensor({2}, 0.f)}}));
         write_index(d, R"({"weight_map":{"x":"s1.safetensors","y":"s2.safetensors"}})");
       },
       "tensor x is stored in both s1.safetensors and s2.safetensors"},
      {"index lists a tensor twice",
       [](const TempDir& d) {
         write_bytes(d / "s1.safetensors", serialized({{"x", f32_tensor({2}, 0.f)}}));
         write_index(d, R"({"weight_map":{"x":"s1.safetensors","x":"s1.safetensors"}})");
       },
       "duplicate key \"x\""},
  };
}

}  // namespace

TEST_CASE("corrupt and inconsistent checkpoints are rejected with specific messages", "[safetensors]") {
  const auto cases = corrupt_cases();
  REQUIRE(cases.size() >= 25);
  for (const auto& c : cases) {
    INFO("case: " << c.what);
    TempDir dir;
    c.make(dir);
    const Failure f = failure_of([&] { Checkpoint::open(dir.path()); });
    CHECK(f.thrown);
    CHECK(f.kind == ErrorKind::Input);
    CHECK_THAT(f.message, Catch::Contains(c.expected));
    CHECK_THAT(f.message, Catch::Contains(dir.path().string()));
  }
}

TEST_CASE("a missing model directory is an input error", "[safetensors]") {
  const Failure f = failure_of([] { Checkpoint::open("/nonexistent/awqrun/model"); });
  CHECK(f.kind == ErrorKind::Input);
  CHECK_THAT(f.message, Catch::Contains("does not exist"));
}

TEST_CASE("a single file maps every dtype with its data and metadata", "[safetensors]") {
  TempDir dir;
  std::map<std::string, TensorData> t;
  t["f32"] = f32_tensor({3, 2}, -1.f);
  t["f16"] = make_tensor<uint16_t>(DType::F16, {4}, {0x3c00, 0xbc00, 0x4000, 0x0001});
  t["bf16"] = make_tensor<uint16_t>(DType::BF16, {2}, {0x3f80, 0xc000});
  t["i32"] = make_tensor<int32_t>(DType::I32, {2, 1}, {-1845836029, 7});
  t["i64"] = make_tensor<int64_t>(DType::I64, {1}, {1ll << 40});
  t["u8"] = make_tensor<uint8_t>(DType::U8, {3}, {1, 2, 3});
  t["bool"] = make_tensor<uint8_t>(DType::BOOL, {1}, {1});
  t["i8"] = make_tensor<int8_t>(DType::I8, {2}, {-3, 4});
  t["i16"] = make_tensor<int16_t>(DType::I16, {1}, {-300});
  t["f64"] = make_tensor<double>(DType::F64, {1}, {2.5});
  t["empty"] = make_tensor<float>(DType::F32, {0, 4}, {});
  write_safetensors(dir / "weights.safetensors", t, {{"format", "pt"}});

  const Checkpoint ck = Checkpoint::open(dir.path());
  REQUIRE(ck.tensors().size() == t.size());
  size_t total = 0;
  for (const auto& [name, data] : t) {
    INFO(name);
    const TensorView& v = ck.get(name);
    CHECK(v.dtype == data.dtype);
    CHECK(v.shape == data.shape);
    REQUIRE(v.nbytes == data.bytes.size());
    CHECK((v.nbytes == 0 || std::memcmp(v.data, data.bytes.data(), v.nbytes) == 0));  // memcmp needs non-null
    CHECK(v.file == "weights.safetensors");
    total += v.nbytes;
  }
  CHECK(ck.total_bytes() == total);
  CHECK(ck.has("i32"));
  CHECK_FALSE(ck.has("nope"));
  CHECK(ck.find("nope") == nullptr);
  const Failure f = failure_of([&] { ck.get("nope"); });
  CHECK(f.kind == ErrorKind::Input);
  CHECK_THAT(f.message, Catch::Contains("tensor nope is missing"));

  const SafetensorsFile sf = SafetensorsFile::open(dir / "weights.safetensors");
  CHECK(sf.metadata().at("format") == "pt");
  CHECK(sf.tensors().at("f32").shape_str() == "[3, 2]");
}

TEST_CASE("a sharded checkpoint is assembled from its index", "[safetensors]") {
  TempDir dir;
  write_safetensors(dir / "model-00001-of-00002.safetensors", {{"a", f32_tensor({2, 3}, 1.f)}, {"b", f32_tensor({4}, 2.f)}});
  write_safetensors(dir / "model-00002-of-00002.safetensors", {{"c", f32_tensor({5}, 3.f)}});
  write_index(dir, R"({"metadata":{"total_size":60},"weight_map":{"a":"model-00001-of-00002.safetensors",
      "b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}})");
  const Checkpoint ck = Checkpoint::open(dir.path());
  CHECK(ck.tensors().size() == 3);
  CHECK(ck.get("c").file == "model-00002-of-00002.safetensors");
  float c4;
  std::memcpy(&c4, ck.get("c").data + 16, 4);
  CHECK(c4 == 5.f);
  CHECK(ck.total_bytes() == 60);
}
