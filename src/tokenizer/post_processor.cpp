#include "src/tokenizer/post_processor.h"

#include <nlohmann/json.hpp>

#include "src/common/error.h"
#include "src/tokenizer/json_util.h"

namespace awq {
namespace {

// [token, id] pairs of BertProcessing / RobertaProcessing.
int pair_id(const nlohmann::json& j, const char* key, std::string_view where) {
  const auto& v = json_field(j, key, where);
  if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer()) {
    input_error("{}: '{}' must be [token, id]", where, key);
  }
  return v[1].get<int>();
}

}  // namespace

PostProcessor::PostProcessor(const nlohmann::json& j, std::string_view context) {
  if (!j.is_null()) add(j, context);
}

// Each processor wraps the output of the ones before it.
void PostProcessor::add(const nlohmann::json& j, std::string_view context) {
  const std::string type = json_type(j, context);
  const std::string where = std::string(context) + "." + type;
  if (type == "Sequence") {
    for (const auto& p : json_array(j, "processors", where)) add(p, where);
    return;
  }
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    prefix_.insert(prefix_.begin(), pair_id(j, "cls", where));
    suffix_.push_back(pair_id(j, "sep", where));
    return;
  }
  if (type != "TemplateProcessing") input_error("{}: unsupported post_processor type '{}'", context, type);

  const auto& specials = json_field(j, "special_tokens", where);
  std::vector<int> before, after;
  bool seen_sequence = false;
  for (const auto& item : json_array(j, "single", where)) {
    if (item.contains("Sequence")) {
      if (seen_sequence) input_error("{}: 'single' uses the sequence twice", where);
      seen_sequence = true;
      continue;
    }
    if (!item.contains("SpecialToken")) input_error("{}: 'single' items must be SpecialToken or Sequence", where);
    const std::string name = json_string(item["SpecialToken"], "id", where);
    if (!specials.contains(name)) input_error("{}: special token '{}' is not in special_tokens", where, name);
    for (const auto& id : json_array(specials[name], "ids", where)) {
      if (!id.is_number_integer()) input_error("{}: special token '{}' has a non-integer id", where, name);
      (seen_sequence ? after : before).push_back(id.get<int>());
    }
  }
  prefix_.insert(prefix_.begin(), before.begin(), before.end());
  suffix_.insert(suffix_.end(), after.begin(), after.end());
}

void PostProcessor::apply(std::vector<int>& ids) const {
  ids.insert(ids.begin(), prefix_.begin(), prefix_.end());
  ids.insert(ids.end(), suffix_.begin(), suffix_.end());
}

}  // namespace awq
