// Located errors: syntax errors and unsupported constructs at parse time,
// runtime failures (raise_exception, undefined access) with template positions.
#include <catch2/catch.hpp>

#include "src/chat/chat_template.h"
#include "src/common/error.h"

namespace {

std::string parse_error(const std::string& source) {
  try {
    awq::ChatTemplate::parse(source, "tmpl.jinja");
  } catch (const awq::Error& e) {
    CHECK(e.kind() == awq::ErrorKind::Input);
    return e.what();
  }
  FAIL("no parse error for: " << source);
  return {};
}

std::string render_error(const std::string& source, const nlohmann::json& ctx = nlohmann::json::object()) {
  auto t = awq::ChatTemplate::parse(source, "tmpl.jinja");
  try {
    t.render(ctx);
  } catch (const awq::Error& e) {
    CHECK(e.kind() == awq::ErrorKind::Input);
    return e.what();
  }
  FAIL("no render error for: " << source);
  return {};
}

}  // namespace

TEST_CASE("syntax errors name the line and column", "[chat]") {
  CHECK_THAT(parse_error("ok\n{% if x %}\nno end"), Catch::StartsWith("tmpl.jinja:") && Catch::Contains("endif"));
  CHECK_THAT(parse_error("line1\n  {{ 1 + }}"), Catch::StartsWith("tmpl.jinja:2:10:"));
  CHECK_THAT(parse_error("{{ 'unterminated }}"), Catch::StartsWith("tmpl.jinja:1:4:") && Catch::Contains("unterminated"));
  CHECK_THAT(parse_error("{# never closed"), Catch::StartsWith("tmpl.jinja:1:1:"));
  CHECK_THAT(parse_error("{{ (1, 2 }}"), Catch::Contains("tmpl.jinja:1:"));
  CHECK_THAT(parse_error("{% endfor %}"), Catch::StartsWith("tmpl.jinja:1:4:"));
  CHECK_THAT(parse_error("{% break %}"), Catch::Contains("outside of a loop"));
}

TEST_CASE("unsupported constructs fail at parse time with a location", "[chat]") {
  CHECK_THAT(parse_error("a\n{% include 'x.jinja' %}"), Catch::StartsWith("tmpl.jinja:2:4: unsupported tag 'include'"));
  CHECK_THAT(parse_error("{% extends 'base' %}"), Catch::Contains("unsupported tag 'extends'"));
  CHECK_THAT(parse_error("{% raw %}{{ x }}{% endraw %}"), Catch::StartsWith("tmpl.jinja:1:1: unsupported tag 'raw'"));
  CHECK_THAT(parse_error("{{ x | batch(2) }}"), Catch::StartsWith("tmpl.jinja:1:8: unsupported filter 'batch'"));
  CHECK_THAT(parse_error("{{ x | strip }}"), Catch::Contains("unsupported filter 'strip'"));
  CHECK_THAT(parse_error("{{ x is whatever }}"), Catch::StartsWith("tmpl.jinja:1:9: unsupported test 'whatever'"));
  CHECK_THAT(parse_error("{% for x in y recursive %}{% endfor %}"), Catch::Contains("recursive"));
  CHECK_THAT(parse_error("{{ f(*args) }}"), Catch::Contains("unsupported"));
  CHECK_THAT(parse_error("{{ joiner() }}"), Catch::Contains("unsupported global 'joiner'"));
  CHECK_THAT(parse_error("{% macro m() %}{{ varargs }}{% endmacro %}"), Catch::Contains("unsupported"));
}

TEST_CASE("raise_exception throws Error(Input) carrying the template's message", "[chat]") {
  auto msg = render_error("x\n{{ raise_exception('Roles must alternate ' ~ 3) }}");
  CHECK_THAT(msg, Catch::StartsWith("tmpl.jinja:2:") && Catch::Contains("Roles must alternate 3"));
}

TEST_CASE("undefined values follow jinja2's default Undefined", "[chat]") {
  auto t = awq::ChatTemplate::parse(
      "[{{ missing }}][{{ missing | length }}][{{ missing is defined }}][{% for x in missing %}x{% endfor %}]"
      "[{{ d.nokey }}][{{ d.nokey is defined }}][{{ 'k' in missing }}][{{ missing ~ 'a' }}][{{ none.attr }}]");
  CHECK(t.render({{"d", {{"a", 1}}}}) == "[][0][False][][][False][False][a][]");
  CHECK_THAT(render_error("{{ missing.attr }}"), Catch::Contains("'missing' is undefined"));
  CHECK_THAT(render_error("{{ d.a.b }}", {{"d", nlohmann::json::object()}}),
             Catch::Contains("'dict object' has no attribute 'a'"));
  CHECK_THAT(render_error("{{ missing + 1 }}"), Catch::Contains("is undefined"));
  CHECK_THAT(render_error("{{ l[3].x }}", {{"l", {1}}}), Catch::Contains("list object has no element 3"));
}

TEST_CASE("runtime type errors and sandbox violations are located errors", "[chat]") {
  CHECK_THAT(render_error("{{ 'a' + 1 }}"), Catch::StartsWith("tmpl.jinja:1:") && Catch::Contains("concatenate"));
  CHECK_THAT(render_error("{{ 1 // 0 }}"), Catch::Contains("ZeroDivisionError"));
  CHECK_THAT(render_error("{{ [].append(1) }}"), Catch::Contains("unsafe"));
  CHECK_THAT(render_error("{% set x = 1 %}{% set x.a = 2 %}"), Catch::Contains("non-namespace"));
  CHECK_THAT(render_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"), Catch::Contains("takes not more than 1"));
  CHECK_THAT(render_error("{% set a, b = [1] %}"), Catch::Contains("not enough values to unpack"));
}

TEST_CASE("strftime_now formats the current local time", "[chat]") {
  auto t = awq::ChatTemplate::parse("{{ strftime_now('%Y') | int > 2000 }}|{{ strftime_now('%d %b %Y') | length }}");
  CHECK(t.render(nlohmann::json::object()) == "True|11");
}
