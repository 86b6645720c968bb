// GGUF reader: every metadata value type (nested arrays included), tensor
// infos and alignment, and clear Error(Input) lines for corrupt files.
#include <catch2/catch.hpp>

#include "src/common/error.h"
#include "tests/model/test_gguf_writer.h"
#include "tools/gguf_convert/ggml_types.h"
#include "tools/gguf_convert/gguf_file.h"

using namespace awq;
using awq::test::GgufBuilder;
using awq::test::TempDir;

namespace {

// Two F32 tensors and one of every metadata type.
GgufBuilder sample_file(uint32_t alignment) {
  GgufBuilder b;
  b.alignment = alignment;
  if (alignment != 32) b.kv_u32("general.alignment", alignment);
  b.kv("v.u8", 0).put<uint8_t>(200);
  b.kv("v.i8", 1).put<int8_t>(-100);
  b.kv("v.u16", 2).put<uint16_t>(60000);
  b.kv("v.i16", 3).put<int16_t>(-30000);
  b.kv_u32("v.u32", 4000000000u);
  b.kv("v.i32", 5).put<int32_t>(-2000000000);
  b.kv_f32("v.f32", 0.25f);
  b.kv_bool("v.bool", true);
  b.kv_str("v.string", "héllo");
  b.kv("v.u64", 10).put<uint64_t>(1ull << 40);
  b.kv("v.i64", 11).put<int64_t>(-(1ll << 40));
  b.kv("v.f64", 12).put<double>(-1.5);
  b.kv_strs("v.strings", {"a", "", "b c"});
  b.kv_i32s("v.ints", {3, -4, 5});
  // [[1, 2], [], [3]] as u16 arrays inside an array.
  auto& nested = b.kv("v.nested", 9).put<uint32_t>(9).put<uint64_t>(3);
  nested.put<uint32_t>(2).put<uint64_t>(2).put<uint16_t>(1).put<uint16_t>(2);
  nested.put<uint32_t>(2).put<uint64_t>(0);
  nested.put<uint32_t>(2).put<uint64_t>(1).put<uint16_t>(3);
  b.tensor({"a.weight", {4, 3}, 0, test::f32_bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})});
  b.tensor({"b.weight", {5}, 0, test::f32_bytes({-1, -2, -3, -4, -5})});
  return b;
}

std::string error_of(const std::filesystem::path& p) {
  try {
    GgufFile f(p);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Input);
    return e.what();
  }
  FAIL("expected an error for " << p);
  return {};
}

}  // namespace

TEST_CASE("GGUF reader reads every metadata type and the tensors", "[gguf]") {
  for (uint32_t alignment : {32u, 64u}) {
    TempDir dir;
    const GgufFile f(dir.write("a.gguf", sample_file(alignment).build()));
    CHECK(f.version() == 3);
    CHECK(f.alignment() == alignment);
    CHECK(f.get_uint("v.u8") == 200);
    CHECK(f.get("v.i8").i == -100);
    CHECK(f.get_uint("v.u16") == 60000);
    CHECK(f.get("v.i16").i == -30000);
    CHECK(f.get_uint("v.u32") == 4000000000u);
    CHECK(f.get("v.i32").i == -2000000000);
    CHECK(f.get_float("v.f32") == 0.25);
    CHECK(f.get_bool("v.bool"));
    CHECK(f.get_string("v.string") == "héllo");
    CHECK(f.get_uint("v.u64") == (1ull << 40));
    CHECK(f.get("v.i64").i == -(1ll << 40));
    CHECK(f.get_float("v.f64") == -1.5);
    CHECK(f.get_string_array("v.strings") == std::vector<std::string>{"a", "", "b c"});
    CHECK(f.get_int_array("v.ints") == std::vector<int64_t>{3, -4, 5});
    const GgufValue& nested = f.get("v.nested");
    REQUIRE(nested.array.size() == 3);
    CHECK(nested.array[0].array.size() == 2);
    CHECK(nested.array[0].array[1].u == 2);
    CHECK(nested.array[1].array.empty());
    CHECK(nested.array[2].array[0].u == 3);

    REQUIRE(f.tensors().size() == 2);
    const GgufTensorInfo* a = f.find_tensor("a.weight");
    REQUIRE(a);
    CHECK(a->ne == std::vector<int64_t>{4, 3});
    CHECK(a->rows() == 3);
    CHECK(a->nbytes == 48);
    float v11;
    std::memcpy(&v11, a->data + 44, 4);
    CHECK(v11 == 11.f);
    const GgufTensorInfo* b = f.find_tensor("b.weight");
    REQUIRE(b);
    CHECK((b->data - a->data) % alignment == 0);
    float v0;
    std::memcpy(&v0, b->data, 4);
    CHECK(v0 == -1.f);
  }
}

TEST_CASE("GGUF reader: wrong types and missing keys name the key", "[gguf]") {
  TempDir dir;
  const GgufFile f(dir.write("a.gguf", sample_file(32).build()));
  CHECK_THROWS_WITH(f.get_string("v.u32"), Catch::Contains("'v.u32'") && Catch::Contains("string"));
  CHECK_THROWS_WITH(f.get_uint("v.i32"), Catch::Contains("'v.i32'"));
  CHECK_THROWS_WITH(f.get_uint("no.such.key"), Catch::Contains("'no.such.key' is missing"));
  CHECK_THROWS_WITH(f.get_string_array("v.ints"), Catch::Contains("'v.ints'"));
}

TEST_CASE("GGUF reader rejects corrupt files with one clear error", "[gguf]") {
  TempDir dir;
  const std::vector<uint8_t> good = sample_file(32).build();

  SECTION("bad magic") {
    std::vector<uint8_t> b = good;
    b[0] = 'X';
    CHECK_THAT(error_of(dir.write("m.gguf", b)), Catch::Contains("not a GGUF file"));
  }
  SECTION("unsupported version") {
    std::vector<uint8_t> b = good;
    b[4] = 1;
    CHECK_THAT(error_of(dir.write("v.gguf", b)), Catch::Contains("version 1"));
  }
  SECTION("every truncation of header, metadata and tensor infos") {
    // The last 12 bytes are padding after b.weight's 20 data bytes: cuts there leave a valid file.
    const size_t data_end = good.size() - 12;
    for (size_t n = 0; n < data_end; ++n) {
      const std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
      const std::string msg = error_of(dir.write("t.gguf", cut));
      CHECK_THAT(msg, Catch::Contains("t.gguf"));
    }
  }
  SECTION("tensor data beyond the end of the file") {
    GgufBuilder b = sample_file(32);
    std::vector<uint8_t> bytes = b.build();
    bytes.resize(bytes.size() - 40);  // cuts into b.weight
    CHECK_THAT(error_of(dir.write("e.gguf", bytes)), Catch::Contains("'b.weight'") && Catch::Contains("truncated"));
  }
  SECTION("unknown tensor type") {
    GgufBuilder b;
    b.tensor({"x", {32}, 99, std::vector<uint8_t>(64)});
    CHECK_THAT(error_of(dir.write("u.gguf", b.build())), Catch::Contains("'x' has unknown ggml type 99"));
  }
  SECTION("row not a whole number of blocks") {
    GgufBuilder b;
    b.tensor({"x", {48, 2}, 2 /*Q4_0*/, std::vector<uint8_t>(64)});
    CHECK_THAT(error_of(dir.write("r.gguf", b.build())), Catch::Contains("'x'") && Catch::Contains("block"));
  }
  SECTION("too many dimensions") {
    GgufBuilder b;
    b.tensor({"x", {1, 1, 1, 1, 1}, 0, std::vector<uint8_t>(4)});
    CHECK_THAT(error_of(dir.write("d.gguf", b.build())), Catch::Contains("5 dimensions"));
  }
  SECTION("unknown metadata value type") {
    GgufBuilder b;
    b.kv("k", 13).put<uint32_t>(0);
    CHECK_THAT(error_of(dir.write("k.gguf", b.build())), Catch::Contains("'k' has unknown type 13"));
  }
  SECTION("huge array count") {
    GgufBuilder b;
    b.kv("k", 9).put<uint32_t>(8).put<uint64_t>(1ull << 60);
    CHECK_THAT(error_of(dir.write("h.gguf", b.build())), Catch::Contains("'k'"));
  }
  SECTION("duplicate key") {
    GgufBuilder b;
    b.kv_u32("k", 1);
    b.kv_u32("k", 2);
    CHECK_THAT(error_of(dir.write("dup.gguf", b.build())), Catch::Contains("'k' appears twice"));
  }
  SECTION("bad alignment") {
    GgufBuilder b;
    b.kv_u32("general.alignment", 24);
    CHECK_THAT(error_of(dir.write("al.gguf", b.build())), Catch::Contains("general.alignment"));
  }
  SECTION("missing file") {
    CHECK_THAT(error_of(dir.path() / "absent.gguf"), Catch::Contains("absent.gguf"));
  }
}
