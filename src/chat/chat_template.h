// Jinja chat templates, rendered exactly as transformers' apply_chat_template
// does with Python jinja2 (trim_blocks, lstrip_blocks, keep_trailing_newline off).
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
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

  struct Impl;

 private:
  explicit ChatTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where the template comes from: --chat-template FILE, else <model_dir>/chat_template.jinja,
// else tokenizer_config.json "chat_template" (a string, or a list of {name, template}: "default").
// Returns nullopt when the model has none.
std::optional<std::string> find_chat_template(const std::filesystem::path& model_dir,
                                              const std::optional<std::filesystem::path>& override_file);

}  // namespace awq
