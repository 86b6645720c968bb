// Batch input: format detection, JSONL and plain-text requests, malformed
// lines turned into per-request errors.
#include <catch2/catch.hpp>

#include "src/batch/batch_input.h"

using namespace awq;

TEST_CASE("the input format follows the extension, else the content", "[batch][input]") {
  const std::string objects = "{\"prompt\": \"a\"}\n\n  {\"prompt\": \"b\"}\n";
  const std::string mixed = "{\"prompt\": \"a\"}\nWhat is {x}?\n";
  CHECK(detect_input_format("r.jsonl", "plain words\n") == InputFormat::Jsonl);
  CHECK(detect_input_format("r.json", "plain words\n") == InputFormat::Jsonl);
  CHECK(detect_input_format("r.txt", objects) == InputFormat::Text);
  CHECK(detect_input_format("requests", objects) == InputFormat::Jsonl);
  CHECK(detect_input_format("-", objects) == InputFormat::Jsonl);
  CHECK(detect_input_format("requests.in", mixed) == InputFormat::Text);
  CHECK(detect_input_format("requests", "") == InputFormat::Text);
  CHECK(detect_input_format("requests", "\n  \n") == InputFormat::Text);

  CHECK(parse_input_format("text", "r.jsonl", objects) == InputFormat::Text);
  CHECK(parse_input_format("jsonl", "r.txt", mixed) == InputFormat::Jsonl);
  CHECK(parse_input_format("auto", "r", objects) == InputFormat::Jsonl);
  CHECK_THROWS_WITH(parse_input_format("csv", "r", objects), Catch::Contains("auto, jsonl or text"));
}

TEST_CASE("plain text: one prompt a line, id = line number, blank lines skipped", "[batch][input]") {
  const auto reqs = parse_batch_input("first prompt\r\n\n   \nsecond {prompt}\nthird", InputFormat::Text);
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].prompt == "first prompt");
  CHECK(reqs[0].id == 1);
  CHECK(reqs[1].prompt == "second {prompt}");
  CHECK(reqs[1].id == 4);
  CHECK(reqs[1].line == 4);
  CHECK(reqs[2].prompt == "third");
  CHECK(reqs[2].id == 5);
  for (size_t i = 0; i < reqs.size(); ++i) {
    CHECK(reqs[i].index == i);
    CHECK(reqs[i].error.empty());
    CHECK(reqs[i].messages.is_null());
  }
}

TEST_CASE("JSONL requests: ids, prompts, chat lists and per-request settings", "[batch][input]") {
  const std::string input =
      "{\"id\": \"q-1\", \"prompt\": \"Hello\"}\n"
      "{\"prompt\": \"no id\", \"max_tokens\": 5, \"stop\": \"END\"}\n"
      "{\"id\": 42, \"messages\": [{\"role\": \"system\", \"content\": \"Be brief\"}, {\"role\": \"user\", "
      "\"content\": \"Hi\"}], \"temperature\": 0.7, \"top_p\": 0.9, \"top_k\": 20, \"min_p\": 0.05, "
      "\"seed\": 123, \"max_new_tokens\": 9, \"stop\": [\"a\", \"bc\"], \"repetition_penalty\": 1.2}\n"
      "{\"id\": 7.5, \"prompt\": \"float id\", \"note\": \"kept for the user\"}\n";
  const auto reqs = parse_batch_input(input, InputFormat::Jsonl);
  REQUIRE(reqs.size() == 4);
  for (const auto& r : reqs) CHECK(r.error.empty());

  CHECK(reqs[0].id == "q-1");
  CHECK(reqs[0].prompt == "Hello");
  CHECK_FALSE(reqs[0].overrides.max_new_tokens.has_value());
  CHECK_FALSE(reqs[0].overrides.temperature.has_value());

  CHECK(reqs[1].id == 2);
  CHECK(reqs[1].overrides.max_new_tokens == 5);
  CHECK(reqs[1].overrides.stop == std::vector<std::string>{"END"});

  const auto& c = reqs[2];
  CHECK(c.id == 42);
  REQUIRE(c.messages.is_array());
  CHECK(c.messages.size() == 2);
  CHECK(c.messages[1]["content"] == "Hi");
  CHECK(c.overrides.temperature == Approx(0.7f));
  CHECK(c.overrides.top_p == Approx(0.9f));
  CHECK(c.overrides.top_k == 20);
  CHECK(c.overrides.min_p == Approx(0.05f));
  CHECK(c.overrides.seed == 123u);
  CHECK(c.overrides.max_new_tokens == 9);
  CHECK(c.overrides.stop == std::vector<std::string>{"a", "bc"});
  CHECK(c.overrides.repeat_penalty == Approx(1.2f));

  CHECK(reqs[3].id == 7.5);
  CHECK(reqs[3].unknown_keys == std::vector<std::string>{"note"});
}

TEST_CASE("a malformed JSONL line becomes an error for that request only", "[batch][input]") {
  struct Case {
    std::string line, message;
  };
  const std::vector<Case> cases = {
      {"{\"id\": 1, \"prompt\": \"ok\"", "line 1: not valid JSON"},
      {"[\"prompt\"]", "line 1: expected a JSON object"},
      {"{\"id\": true, \"prompt\": \"x\"}", "id must be a string or a number"},
      {"{\"id\": \"a\"}", "give exactly one of \"prompt\" or \"messages\""},
      {"{\"id\": \"a\", \"prompt\": \"x\", \"messages\": [{\"role\": \"user\"}]}", "exactly one of"},
      {"{\"prompt\": 5}", "prompt must be a string"},
      {"{\"messages\": []}", "messages must be a non-empty list"},
      {"{\"messages\": [{\"content\": \"no role\"}]}", "messages[0] must be an object with a string \"role\""},
      {"{\"prompt\": \"x\", \"temperature\": \"hot\"}", "temperature must be a number >= 0, got \"hot\""},
      {"{\"prompt\": \"x\", \"temperature\": -1}", "temperature must be a number >= 0"},
      {"{\"prompt\": \"x\", \"top_p\": 1.5}", "top_p must be a number in [0, 1]"},
      {"{\"prompt\": \"x\", \"max_new_tokens\": -3}", "max_new_tokens must be a non-negative integer"},
      {"{\"prompt\": \"x\", \"max_new_tokens\": 2.5}", "max_new_tokens must be a non-negative integer"},
      {"{\"prompt\": \"x\", \"max_new_tokens\": 2, \"max_tokens\": 3}", "not both"},
      {"{\"prompt\": \"x\", \"top_k\": -1}", "top_k must be a non-negative integer"},
      {"{\"prompt\": \"x\", \"seed\": -1}", "seed must be a non-negative integer"},
      {"{\"prompt\": \"x\", \"stop\": [\"a\", 3]}", "stop must be a string or a list of non-empty strings"},
      {"{\"prompt\": \"x\", \"stop\": [\"\"]}", "stop must be a string or a list of non-empty strings"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    const auto reqs = parse_batch_input("{\"id\": \"before\", \"prompt\": \"fine\"}\n" + c.line +
                                            "\n{\"id\": \"after\", \"prompt\": \"fine\"}\n",
                                        InputFormat::Jsonl);
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].error.empty());
    CHECK(reqs[2].error.empty());
    CHECK(reqs[2].index == 2);
    std::string expected = c.message;
    if (expected.rfind("line 1", 0) == 0) expected.replace(0, 6, "line 2");
    CHECK_THAT(reqs[1].error, Catch::StartsWith("line 2: ") && Catch::Contains(expected));
  }
  // The id of a bad line is kept when it could be read, else it is the line number.
  const auto reqs = parse_batch_input("{\"id\": \"x9\", \"temperature\": 1}\n{oops\n", InputFormat::Jsonl);
  CHECK(reqs[0].id == "x9");
  CHECK(reqs[1].id == 2);
}

TEST_CASE("a repeated id is an error on its later line", "[batch][input]") {
  const auto reqs = parse_batch_input(
      "{\"id\": \"a\", \"prompt\": \"1\"}\n{\"id\": 3, \"prompt\": \"2\"}\n{\"id\": \"a\", \"prompt\": \"3\"}\n"
      "{\"prompt\": \"line 4, id 4\"}\n{\"id\": \"3\", \"prompt\": \"string 3 is not number 3\"}\n",
      InputFormat::Jsonl);
  REQUIRE(reqs.size() == 5);
  CHECK(reqs[0].error.empty());
  CHECK(reqs[1].error.empty());
  CHECK(reqs[2].error == "line 3: id \"a\" repeats the id of line 1");
  CHECK(reqs[3].error.empty());
  CHECK(reqs[4].error.empty());
  CHECK(id_key(reqs[1].id) != id_key(reqs[4].id));
}
