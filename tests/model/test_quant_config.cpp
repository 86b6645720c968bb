// quantization_config / legacy quant_config.json: accepted forms and rejections.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "src/model/quant_config.h"
#include "tests/model/model_test_util.h"

using namespace awq;
using namespace awq::test;
using nlohmann::json;

namespace {

json with_quant(json q) { return json{{"architectures", {"LlamaForCausalLM"}}, {"quantization_config", q}}; }

json thebloke() {
  return json::parse(R"({"quant_method": "awq", "zero_point": true, "group_size": 128, "bits": 4, "version": "gemm"})");
}

QuantConfig parse(const json& q) { return parse_quant_config(with_quant(q).dump(), "config.json"); }

std::string rejection(const json& q) {
  const Failure f = failure_of([&] { parse(q); });
  CHECK(f.thrown);
  CHECK(f.kind == ErrorKind::Input);
  return f.message;
}

}  // namespace

TEST_CASE("TheBloke-style and AutoAWQ 0.2 quantization configs", "[quant]") {
  QuantConfig c = parse(thebloke());
  CHECK(c.bits == 4);
  CHECK(c.group_size == 128);
  CHECK(c.zero_point);
  CHECK(c.layout == AwqLayout::Gemm);
  CHECK(c.modules_to_not_convert.empty());
  CHECK(c.resolved_group_size(4096) == 128);

  json q = thebloke();
  q["version"] = "GEMV";
  q["group_size"] = 64;
  q["modules_to_not_convert"] = nullptr;
  c = parse(q);
  CHECK(c.layout == AwqLayout::Gemv);
  CHECK(c.group_size == 64);

  q["group_size"] = -1;
  q["modules_to_not_convert"] = {"gate", "visual"};
  c = parse(q);
  CHECK(c.resolved_group_size(11008) == 11008);
  CHECK(c.keeps_float("mlp.gate_proj"));
  CHECK_FALSE(c.keeps_float("mlp.up_proj"));
  CHECK(parse(json{{"quant_method", "awq"}}).group_size == 128);  // AutoAWQ defaults
  q["group_size"] = 32;
  CHECK(parse(q).group_size == 32);
}

TEST_CASE("quantization config rejections say what was found and what is supported", "[quant]") {
  auto with = [](const char* key, json v) {
    json q = thebloke();
    q[key] = v;
    return q;
  };
  CHECK_THAT(rejection(with("quant_method", "gptq")),
             Catch::Contains("quant_method is \"gptq\", but awqrun reads only AWQ checkpoints"));
  CHECK_THAT(rejection(with("quant_method", "bitsandbytes")), Catch::Contains("\"bitsandbytes\""));
  CHECK_THAT(rejection(with("bits", 8)), Catch::Contains("8-bit weights are not supported (supported: AWQ with bits 4"));
  CHECK_THAT(rejection(with("version", "gemv_fast")), Catch::Contains("AWQ version \"gemv_fast\" is not supported"));
  CHECK_THAT(rejection(with("version", "marlin")), Catch::Contains("\"marlin\" is not supported"));
  CHECK_THAT(rejection(with("version", "exllama")), Catch::Contains("\"exllama\" is not supported"));
  CHECK_THAT(rejection(with("zero_point", false)), Catch::Contains("zero_point false (symmetric, Marlin-style)"));
  CHECK_THAT(rejection(with("group_size", 256)), Catch::Contains("group_size 256 is not supported"));
  CHECK_THAT(rejection(with("group_size", "128")), Catch::Contains("group_size must be an integer"));
  CHECK_THAT(rejection(with("modules_to_not_convert", "gate")), Catch::Contains("modules_to_not_convert must be a list"));
  CHECK_THAT(rejection(with("modules_to_not_convert", {1})), Catch::Contains("non-string entry"));
  CHECK_THAT(rejection("awq"), Catch::Contains("quantization_config must be an object"));

  const Failure none = failure_of([] { parse_quant_config(R"({"hidden_size": 8})", "config.json"); });
  CHECK(none.kind == ErrorKind::Input);
  CHECK_THAT(none.message, Catch::Contains("not an AWQ checkpoint"));
}

TEST_CASE("legacy quant_config.json is the fallback", "[quant]") {
  TempDir dir;
  write_bytes(dir / "config.json", R"({"architectures": ["LlamaForCausalLM"]})");
  const Failure missing = failure_of([&] { load_quant_config(dir.path()); });
  CHECK(missing.kind == ErrorKind::Input);
  CHECK_THAT(missing.message, Catch::Contains("there is no quant_config.json, so this is not an AWQ checkpoint"));

  write_bytes(dir / "quant_config.json", R"({"zero_point": true, "q_group_size": 64, "w_bit": 4, "version": "GEMM"})");
  QuantConfig c = load_quant_config(dir.path());
  CHECK(c.group_size == 64);
  CHECK(c.layout == AwqLayout::Gemm);

  write_bytes(dir / "quant_config.json", R"({"zero_point": true, "q_group_size": 128, "w_bit": 3, "version": "GEMV"})");
  const Failure bits = failure_of([&] { load_quant_config(dir.path()); });
  CHECK_THAT(bits.message, Catch::Contains("quant_config.json: 3-bit weights are not supported"));

  // quantization_config in config.json wins over the legacy file.
  write_bytes(dir / "config.json", with_quant(json::parse(R"({"quant_method":"awq","version":"gemv","group_size":32})")).dump());
  c = load_quant_config(dir.path());
  CHECK(c.layout == AwqLayout::Gemv);
  CHECK(c.group_size == 32);
}
