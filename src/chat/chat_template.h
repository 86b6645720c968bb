// Jinja chat templates, rendered exactly as transformers' apply_chat_template
// does with Python jinja2 (trim_blocks, lstrip_blocks, keep_trailing_newline off).
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace awq {

class ChatTemplate {
 public:
  // Parses once; throws Error(Input) "template:<line>:<col>: <what>" on syntax
  // errors and on constructs the interpreter does not support.
  static ChatTemplate parse(const std::string& source, const std::string& source_name = "chat_template");
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // context: {"messages": [...], "add_generation_prompt": bool, "bos_token": ..., "eos_token": ...,
  //           "tools": ..., any extra keyword arguments}. raise_exception() in the template throws
  // Error(Input) with the template's message.
  std::string render(const nlohmann::json& context) const;
  // Same, keeping the key order of objects (nlohmann::json sorts keys), which
  // `tojson` and `for k, v in d.items()` expose; use this for tools and tool calls.
  std::string render_ordered(const nlohmann::ordered_json& context) const;

  struct Impl;

 private:
  explicit ChatTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What apply_chat_template hands the template (transformers 5.x): messages with
// None-valued keys dropped and reasoning aliased (reasoning_content/thinking),
// tools and documents (null when absent), add_generation_prompt, the tokenizer's
// non-null special tokens ({"bos_token": "<s>", ...}), then extra keyword arguments.
struct ChatRequest {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;      // null: no tools
  nlohmann::ordered_json documents;  // null: no documents
  bool add_generation_prompt = false;
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // e.g. {"enable_thinking": false}
};
nlohmann::ordered_json make_chat_context(const ChatRequest& request);

// Where the template comes from: --chat-template FILE, else <model_dir>/chat_template.jinja,
// else tokenizer_config.json "chat_template" (a string, or a list of {name, template}: "default").
// With tools_requested, a template named "tool_use" wins over "default" (in the list form, or
// <model_dir>/additional_chat_templates/tool_use.jinja), as transformers picks it.
// Returns nullopt when the model has none; unreadable files are Error(Input).
std::optional<std::string> find_chat_template(const std::filesystem::path& model_dir,
                                              const std::optional<std::filesystem::path>& override_file,
                                              bool tools_requested = false);

}  // namespace awq
