// End to end: the real awqrun binary on the default model (skipped with a
// message when models/SmolLM2-135M-Instruct is not installed) and, for the
// 1,000-request file, on a tiny random model. Covers exit codes, input order,
// per-request overrides, resume after Ctrl-C and after a kill, plain-text
// input and the scripted chat.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/batch/batch_test_util.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using awq::test::parse_lines;
using awq::test::read_file;
using awq::test::TempDir;
using awq::test::write_file;

const fs::path kModel = fs::path(AWQRUN_SOURCE_DIR) / "models" / "SmolLM2-135M-Instruct";

bool have_model() {
  if (fs::is_regular_file(kModel / "config.json") && fs::is_regular_file(kModel / "model.safetensors")) return true;
  WARN("SKIP: " << kModel.string() << " is not installed (scripts/fetch_default_model installs it)");
  return false;
}

// Starts awqrun with stdin/stdout/stderr redirected to files; returns its pid.
pid_t spawn_awqrun(const std::vector<std::string>& args, const fs::path& in, const fs::path& out, const fs::path& err) {
  std::vector<std::string> argv_s{AWQRUN_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, AWQRUN_EXE, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

// Exit status, or 128 + signal for a killed process (as a shell reports it).
int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Result {
  int code;
  std::string out, err;
};

Result run(const TempDir& dir, std::vector<std::string> args, const std::string& stdin_text = "") {
  write_file(dir / "stdin", stdin_text);
  args.insert(args.begin() + 1, {"-m", kModel.string(), "-t", "2"});
  const int code = wait_exit(spawn_awqrun(args, dir / "stdin", dir / "stdout", dir / "stderr"));
  return {code, read_file(dir / "stdout"), read_file(dir / "stderr")};
}

size_t count_lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

// Every line complete and a result object; ids in the given order, each once.
void check_results(const std::string& text, const std::vector<std::string>& ids) {
  REQUIRE((text.empty() || text.back() == '\n'));
  const auto lines = parse_lines(text);
  REQUIRE(lines.size() == ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    INFO("line " << i + 1 << ": " << lines[i].dump());
    REQUIRE_FALSE(lines[i].is_discarded());
    CHECK(lines[i]["id"].dump() == ids[i]);
  }
}

}  // namespace

TEST_CASE("awqrun batch: input order, overrides, error lines and exit code 5", "[batch][cli]") {
  if (!have_model()) return;
  TempDir dir;
  write_file(dir / "in.jsonl",
             "{\"id\": \"greet\", \"prompt\": \"Say hello.\"}\n"
             "{\"id\": 2, \"messages\": [{\"role\": \"user\", \"content\": \"What is 2+2?\"}], \"max_new_tokens\": 3}\n"
             "{\"id\": \"broken\", \"prompt\": \n"
             "\n"
             "{\"prompt\": \"Name a color.\", \"temperature\": 0.9, \"seed\": 5, \"max_tokens\": 6}\n");
  const auto r = run(dir, {"batch", "-i", (dir / "in.jsonl").string(), "-o", (dir / "out.jsonl").string(), "-n", "8",
                           "--temp", "0"});
  INFO(r.err);
  CHECK(r.code == 5);
  CHECK(r.out.empty());  // results go to -o only
  const std::string text = read_file(dir / "out.jsonl");
  check_results(text, {"\"greet\"", "2", "3", "5"});
  const auto lines = parse_lines(text);
  CHECK(lines[0]["completion_tokens"].get<int>() <= 8);
  CHECK(lines[0]["prompt_tokens"].get<int>() > 5);
  CHECK(lines[0]["timings"]["decode_ms"].get<double>() >= 0);
  CHECK(lines[1]["completion_tokens"].get<int>() <= 3);
  CHECK_THAT(lines[2]["error"].get<std::string>(), Catch::StartsWith("line 3: not valid JSON"));
  CHECK(lines[3]["completion_tokens"].get<int>() <= 6);
  CHECK(lines[3].contains("text"));

  // Same seed, same text; -o - writes to stdout.
  write_file(dir / "again.jsonl", "{\"id\": 5, \"prompt\": \"Name a color.\", \"temperature\": 0.9, \"seed\": 5, \"max_tokens\": 6}\n");
  const auto again = run(dir, {"batch", "-i", (dir / "again.jsonl").string(), "-o", "-", "-n", "8", "--temp", "0"});
  CHECK(again.code == 0);
  check_results(again.out, {"5"});
  CHECK(parse_lines(again.out)[0]["text"] == lines[3]["text"]);
}

TEST_CASE("awqrun batch: plain-text input, resume after Ctrl-C and after a kill", "[batch][cli]") {
  if (!have_model()) return;
  TempDir dir;
  std::string input;
  std::vector<std::string> ids;
  for (int i = 1; i <= 24; ++i) {
    input += "Count to " + std::to_string(i) + ".\n";
    ids.push_back(std::to_string(i));
  }
  write_file(dir / "prompts.txt", input);
  const std::vector<std::string> args = {"batch", "-m", kModel.string(), "-t", "2", "-i",
                                         (dir / "prompts.txt").string(), "-o", (dir / "out.jsonl").string(),
                                         "-n", "12", "--temp", "0"};
  write_file(dir / "stdin", "");

  // Interrupt (Ctrl-C, then a kill) once a few results are on disk: complete lines only.
  for (int sig : {SIGINT, SIGKILL}) {
    const size_t before = count_lines(read_file(dir / "out.jsonl"));
    const pid_t pid = spawn_awqrun(args, dir / "stdin", dir / "stdout", dir / "stderr");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (count_lines(read_file(dir / "out.jsonl")) < before + 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(pid, sig);
    const int code = wait_exit(pid);
    INFO("signal " << sig << ", stderr: " << read_file(dir / "stderr"));
    CHECK(code == (sig == SIGINT ? 130 : 128 + SIGKILL));
    const std::string partial = read_file(dir / "out.jsonl");
    const size_t done = count_lines(partial);
    CHECK(done >= before + 2);
    CHECK(done < ids.size());
    // A kill may cut the last line; what is complete is in order.
    check_results(partial.substr(0, partial.rfind('\n') + 1), std::vector<std::string>(ids.begin(), ids.begin() + long(done)));
  }

  const int code = wait_exit(spawn_awqrun(args, dir / "stdin", dir / "stdout", dir / "stderr"));
  INFO(read_file(dir / "stderr"));
  CHECK(code == 0);
  const std::string resumed = read_file(dir / "out.jsonl");
  check_results(resumed, ids);

  // The same batch in one go gives the same texts (greedy): nothing lost or repeated.
  const auto fresh = run(dir, {"batch", "-i", (dir / "prompts.txt").string(), "-o", "-", "-n", "12", "--temp", "0"});
  CHECK(fresh.code == 0);
  const auto a = parse_lines(resumed), b = parse_lines(fresh.out);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i]["text"] == b[i]["text"]);
}

TEST_CASE("awqrun chat reads one turn a line from a pipe, without prompts", "[batch][cli][chat]") {
  if (!have_model()) return;
  TempDir dir;
  const auto r = run(dir, {"chat", "-n", "6", "--temp", "0", "--stop", "\n", "--system", "Answer in one short line."},
                     "What is the capital of France?\n\n/reset\nAnd of Italy?\n/exit\nnot read\n");
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(count_lines(r.out) == 2);  // one answer a line (stop at "\n"), the blank line and commands give none
  CHECK(r.out.find("> ") == std::string::npos);
  CHECK(r.out.find('\033') == std::string::npos);
  CHECK(r.err.find("error") == std::string::npos);

  const auto bad = run(dir, {"chat", "--chat-template", (dir / "missing.jinja").string()}, "hi\n");
  CHECK(bad.code == 3);
}

TEST_CASE("awqrun batch: 1,000 prompts run to the end, and a kill + rerun gives the same file", "[batch][cli]") {
  // A tiny random model of the engine tests: fast enough for 1,000 requests in CI.
  const fs::path tiny = fs::path(AWQRUN_SOURCE_DIR) / "tests/data/engine/llama_gqa2";
  TempDir dir;
  std::string input;
  std::vector<std::string> ids;
  for (int i = 1; i <= 1000; ++i) {
    input += "prompt number " + std::to_string(i) + " says " + std::to_string(i * 7919 % 1000) + "\n";
    ids.push_back(std::to_string(i));
  }
  write_file(dir / "prompts.txt", input);
  write_file(dir / "stdin", "");
  auto args = [&](const char* out) {
    return std::vector<std::string>{"batch", "-m", tiny.string(), "-t", "1", "-i", (dir / "prompts.txt").string(),
                                    "-o", (dir / out).string(), "-n", "3", "--temp", "0"};
  };
  CHECK(wait_exit(spawn_awqrun(args("whole.jsonl"), dir / "stdin", dir / "stdout", dir / "stderr")) == 0);
  const std::string whole = read_file(dir / "whole.jsonl");
  check_results(whole, ids);

  const pid_t pid = spawn_awqrun(args("killed.jsonl"), dir / "stdin", dir / "stdout", dir / "stderr");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (count_lines(read_file(dir / "killed.jsonl")) < 300 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  wait_exit(pid);
  const size_t done_before_rerun = count_lines(read_file(dir / "killed.jsonl"));
  CHECK(done_before_rerun >= 300);
  CHECK(wait_exit(spawn_awqrun(args("killed.jsonl"), dir / "stdin", dir / "stdout", dir / "stderr")) == 0);
  const std::string resumed = read_file(dir / "killed.jsonl");
  check_results(resumed, ids);
  const auto a = parse_lines(whole), b = parse_lines(resumed);
  REQUIRE(a.size() == b.size());
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i]["text"] == b[i]["text"];
  CHECK(same == a.size());
}

TEST_CASE("awqrun batch --parallel: continuous batching gives the one-at-a-time file", "[batch][cli]") {
  const fs::path tiny = fs::path(AWQRUN_SOURCE_DIR) / "tests/data/engine/llama_gqa2";
  TempDir dir;
  std::string input;
  std::vector<std::string> ids;
  for (int i = 1; i <= 40; ++i) {
    input += "{\"id\": " + std::to_string(i) + ", \"prompt\": \"item " + std::to_string(i * 131) + "\"" +
             (i % 3 == 0 ? ", \"temperature\": 0.9" : "") + ", \"max_new_tokens\": " + std::to_string(2 + i % 9) + "}\n";
    ids.push_back(std::to_string(i));
  }
  input += "{\"id\": 41, \"prompt\": \"" + std::string(2000, 'z') + "\"}\n";  // longer than the model's context
  ids.push_back("41");
  write_file(dir / "requests.jsonl", input);
  write_file(dir / "stdin", "");
  auto run_with = [&](const std::string& parallel, const std::string& out) {
    const std::vector<std::string> args = {"batch", "-m", tiny.string(), "-t", "1", "-i", (dir / "requests.jsonl").string(),
                                           "-o", (dir / out).string(), "--seed", "5", "--ignore-eos",
                                           "--parallel", parallel};
    return wait_exit(spawn_awqrun(args, dir / "stdin", dir / "stdout", dir / "stderr"));
  };
  CHECK(run_with("1", "one.jsonl") == 5);  // request 41 fails
  CHECK(run_with("7", "seven.jsonl") == 5);
  const std::string one = read_file(dir / "one.jsonl"), seven = read_file(dir / "seven.jsonl");
  check_results(one, ids);
  check_results(seven, ids);
  const auto a = parse_lines(one), b = parse_lines(seven);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].dump() << "\n" << b[i].dump());
    CHECK(a[i].value("text", "") == b[i].value("text", ""));
    CHECK(a[i].value("error", "") == b[i].value("error", ""));
    if (i < 40) CHECK(b[i]["completion_tokens"] == 2 + int(i + 1) % 9);  // --ignore-eos: every token asked for
  }
  CHECK(a[40].value("error", "").find("exceeds the context") != std::string::npos);
}
