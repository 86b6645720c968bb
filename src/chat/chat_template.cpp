#include "src/chat/chat_template.h"

#include "src/chat/interpreter.h"
#include "src/chat/lexer.h"
#include "src/chat/parser.h"
#include "src/common/error.h"

namespace awq {

struct ChatTemplate::Impl {
  jinja::SourceInfo source;
  jinja::Body body;
};

ChatTemplate::ChatTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

ChatTemplate ChatTemplate::parse(const std::string& source, const std::string& source_name) {
  auto impl = std::make_unique<Impl>();
  impl->source = jinja::prepare_source(source, source_name);
  impl->body = jinja::parse_template(impl->source, jinja::tokenize(impl->source));
  return ChatTemplate(std::move(impl));
}

std::string ChatTemplate::render_ordered(const nlohmann::ordered_json& context) const {
  if (!context.is_object()) input_error("{}: the template context must be a JSON object", impl_->source.name);
  jinja::Value vars;
  try {
    vars = jinja::from_json(context);
  } catch (const jinja::TemplateError& e) {
    input_error("{}: {}", impl_->source.name, e.what());
  }
  return jinja::Interpreter(impl_->source).render(impl_->body, vars.as_dict());
}

std::string ChatTemplate::render(const nlohmann::json& context) const {
  return render_ordered(nlohmann::ordered_json::parse(context.dump()));
}

// transformers' _alias_reasoning_fields: {"thinking": r, **message, "reasoning_content": r}.
static nlohmann::ordered_json alias_reasoning(const nlohmann::ordered_json& message) {
  static const char* const fields[] = {"reasoning_content", "thinking", "reasoning"};
  const nlohmann::ordered_json* reasoning = nullptr;
  for (const char* f : fields) {
    auto it = message.find(f);
    if (it != message.end() && !it->is_null()) {
      reasoning = &*it;
      break;
    }
  }
  if (!reasoning) return message;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["thinking"] = *reasoning;
  for (const auto& [k, v] : message.items()) out[k] = v;
  out["reasoning_content"] = *reasoning;
  return out;
}

nlohmann::ordered_json make_chat_context(const ChatRequest& request) {
  if (!request.messages.is_array()) input_error("chat messages must be a JSON array");
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  for (const auto& m : request.messages) {
    if (!m.is_object()) input_error("each chat message must be a JSON object, got {}", m.dump());
    nlohmann::ordered_json kept = nlohmann::ordered_json::object();
    for (const auto& [k, v] : m.items()) {
      if (!v.is_null()) kept[k] = v;  // transformers drops None-valued keys
    }
    messages.push_back(alias_reasoning(kept));
  }
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = std::move(messages);
  context["tools"] = request.tools;
  context["documents"] = request.documents;
  context["add_generation_prompt"] = request.add_generation_prompt;
  for (const auto& [k, v] : request.special_tokens.items()) {
    if (!v.is_null()) context[k] = v;
  }
  for (const auto& [k, v] : request.extra.items()) context[k] = v;
  return context;
}

}  // namespace awq
