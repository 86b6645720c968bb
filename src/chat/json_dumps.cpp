// Python's json.dumps over template values: the tojson filter that
// transformers installs (ensure_ascii=False, optional indent/separators/sort_keys).
#include <algorithm>
#include <cmath>

#include "src/chat/py_text.h"
#include "src/chat/value.h"

namespace awq::jinja {
namespace {

void append_hex4(std::string& out, unsigned v) {
  char buf[16];
  snprintf(buf, sizeof buf, "\\u%04x", v);
  out += buf;
}

void dump_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (char32_t c : utf8_decode(s)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          append_hex4(out, static_cast<unsigned>(c));
        } else if (ensure_ascii && c > 0x7E) {
          if (c > 0xFFFF) {
            char32_t v = c - 0x10000;
            append_hex4(out, 0xD800 + static_cast<unsigned>(v >> 10));
            append_hex4(out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
          } else {
            append_hex4(out, static_cast<unsigned>(c));
          }
        } else {
          utf8_append(out, c);
        }
    }
  }
  out += '"';
}

class Dumper {
 public:
  explicit Dumper(const JsonDumpOptions& o) : o_(o) {}

  void dump(std::string& out, const Value& v, int depth) {
    switch (v.type()) {
      case Value::Type::None: out += "null"; return;
      case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; return;
      case Value::Type::Int: out += std::to_string(v.as_int()); return;
      case Value::Type::Float: out += float_text(v.as_double()); return;
      case Value::Type::String: dump_string(out, v.as_string(), o_.ensure_ascii); return;
      case Value::Type::List: dump_list(out, v.as_list().items, depth); return;
      case Value::Type::Dict: dump_dict(out, v.as_dict(), depth); return;
      default:
        throw TemplateError("TypeError: Object of type " + type_name(v) + " is not JSON serializable");
    }
  }

 private:
  static std::string float_text(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return format_float(d);
  }

  void newline(std::string& out, int depth) {
    if (!o_.has_indent) return;
    out += '\n';
    for (int i = 0; i < depth; ++i) out += o_.indent;
  }

  void dump_list(std::string& out, const std::vector<Value>& items, int depth) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += o_.item_separator;
      newline(out, depth + 1);
      dump(out, items[i], depth + 1);
    }
    newline(out, depth);
    out += ']';
  }

  void dump_dict(std::string& out, const Dict& d, int depth) {
    if (d.items.empty()) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<std::string, Value>*> order;
    for (const auto& kv : d.items) order.push_back(&kv);
    if (o_.sort_keys) {
      std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
    }
    out += '{';
    for (size_t i = 0; i < order.size(); ++i) {
      if (i) out += o_.item_separator;
      newline(out, depth + 1);
      dump_string(out, order[i]->first, o_.ensure_ascii);
      out += o_.key_separator;
      dump(out, order[i]->second, depth + 1);
    }
    newline(out, depth);
    out += '}';
  }

  const JsonDumpOptions& o_;
};

}  // namespace

std::string json_dumps(const Value& v, const JsonDumpOptions& options) {
  std::string out;
  Dumper(options).dump(out, v, 0);
  return out;
}

}  // namespace awq::jinja
