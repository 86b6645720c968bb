// Renders every case of tests/data/chat/goldens.json (produced by
// scripts/gen_template_goldens.py with transformers + jinja2) and requires
// byte-identical output, or an Error(Input) where jinja2 raised.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "src/chat/chat_template.h"
#include "src/common/error.h"

namespace {

nlohmann::ordered_json load_goldens() {
  std::ifstream in(std::string(AWQRUN_SOURCE_DIR) + "/tests/data/chat/goldens.json");
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::ordered_json::parse(s.str());
}

awq::ChatRequest request_of(const nlohmann::ordered_json& c) {
  awq::ChatRequest r;
  r.messages = c["messages"];
  r.tools = c["tools"];
  r.add_generation_prompt = c["add_generation_prompt"].get<bool>();
  r.special_tokens = c["special_tokens"];
  r.extra = c["extra"];
  return r;
}

}  // namespace

TEST_CASE("chat templates render byte-identically to transformers/jinja2", "[chat]") {
  auto goldens = load_goldens();
  std::map<std::string, awq::ChatTemplate> templates;
  for (const auto& [name, text] : goldens["templates"].items()) {
    INFO("template " << name);
    REQUIRE_NOTHROW(templates.emplace(name, awq::ChatTemplate::parse(text.get<std::string>(), name)));
  }
  REQUIRE(goldens["cases"].size() > 200);
  size_t rendered = 0, raised = 0;
  for (const auto& c : goldens["cases"]) {
    INFO("case " << c["name"].get<std::string>());
    const auto& tmpl = templates.at(c["template"].get<std::string>());
    auto context = awq::make_chat_context(request_of(c));
    if (c.contains("expected")) {
      std::string out;
      try {
        out = tmpl.render_ordered(context);
      } catch (const std::exception& e) {
        FAIL("unexpected error: " << e.what());
      }
      CHECK(out == c["expected"].get<std::string>());
      ++rendered;
      continue;
    }
    try {
      tmpl.render_ordered(context);
      FAIL("expected an error like: " << c["error"].get<std::string>());
    } catch (const awq::Error& e) {
      CHECK(e.kind() == awq::ErrorKind::Input);
      CHECK_THAT(e.what(), Catch::Contains(c["error"].get<std::string>()));
      ++raised;
    }
  }
  CHECK(rendered > 200);
  CHECK(raised > 0);
}

TEST_CASE("render(json) equals render_ordered for key-order-free contexts", "[chat]") {
  auto t = awq::ChatTemplate::parse("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}{{ bos_token }}");
  nlohmann::json ctx = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"bos_token", "<s>"}};
  CHECK(t.render(ctx) == "user:hi;<s>");
  CHECK(t.render_ordered(nlohmann::ordered_json::parse(ctx.dump())) == "user:hi;<s>");
}
