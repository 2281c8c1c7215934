// OTLP decoders (protobuf and JSON) for the telemetry sink and tests. Input is untrusted: every
// read is bounds-checked, nesting is capped, unknown fields are skipped and any malformed input is
// an invalid_argument with a short reason. Never throws.
#include "chat/telemetry/receiver/otlp_decode.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <variant>

#include "chat/core/base64.hpp"
#include "otlp_wire.hpp"

namespace chat::telemetry::sdk {
namespace {

using core::InvalidArgument;
using core::Status;
using Json = nlohmann::json;
using wire::Reader;

// AnyValue can nest arrays and kvlists; deeper input than this is rejected rather than recursed.
constexpr int kMaxAnyValueDepth = 32;
constexpr int kMaxJsonDepth = 64;

// Like CHAT_RETURN_IF_ERROR, with a unique variable per expansion: decoders nest lambdas inside
// the checked expression, where one fixed name would shadow itself.
#define DECODE_TRY(expr) DECODE_TRY_IMPL(expr, CHAT_INTERNAL_CONCAT(decode_status_, __COUNTER__))
// `var` is declared, so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define DECODE_TRY_IMPL(expr, var)     \
  do {                                 \
    ::chat::core::Status var = (expr); \
    if (!var.ok()) return var;         \
  } while (false)
// NOLINTEND(bugprone-macro-parentheses)

// The memory one decode may use. Bounds checks stop reads past the body, but not amplification:
// a body of 2-byte empty spans decoded to 236 times its size (≈1.9 GB for the sink's 8 MiB body
// limit), and a scope's name is copied into each of its spans, so a long name over many spans
// grows with their product. Every element is charged its in-memory size (and every copied scope
// name its length) before it is allocated; a decode that would pass kBudgetFactor × body +
// kBudgetFloor fails as invalid_argument. Real OTLP decodes to about 4× its size (protobuf) and
// less for JSON. The budget lives in a thread_local set by the public entry points (DecodeScope)
// rather than in every helper's signature: the helpers run on the caller's thread, never nest
// across decodes, and a helper called outside a decode (no budget) is not limited.
constexpr size_t kBudgetFactor = 16;
constexpr size_t kBudgetFloor = size_t{1} << 20;
// What a parsed JSON container ('{' or '[') costs nlohmann's DOM at most: the node, its map or
// vector and the allocator's overhead. Charged from a pre-scan, before parsing.
constexpr size_t kJsonContainerCost = 96;

struct Budget {
  size_t limit = 0;
  size_t used = 0;
};
thread_local Budget* t_budget = nullptr;

class DecodeScope {
 public:
  explicit DecodeScope(std::string_view body) : previous_(t_budget) {
    budget_.limit = kBudgetFactor * body.size() + kBudgetFloor;
    t_budget = &budget_;
  }
  ~DecodeScope() { t_budget = previous_; }
  DecodeScope(const DecodeScope&) = delete;
  DecodeScope& operator=(const DecodeScope&) = delete;

 private:
  Budget budget_;
  Budget* previous_;
};

Status Charge(size_t bytes) {
  if (t_budget == nullptr) return {};
  if (bytes > t_budget->limit - t_budget->used) {
    return InvalidArgument("request decodes to more than " + std::to_string(t_budget->limit >> 20) +
                           " MiB (" + std::to_string(kBudgetFactor) +
                           " times its size plus 1 MiB)");
  }
  t_budget->used += bytes;
  return {};
}

Status ExpectWireType(const Reader& r, uint32_t field, uint32_t got, wire::WireType want) {
  if (got != want) {
    return r.Error("wrong wire type " + std::to_string(got) + " for field " +
                   std::to_string(field));
  }
  return {};
}

// Iterates the fields of one message: `on_field(field, wire_type, handled)` reads the field from
// `r` and sets `handled`, or leaves it false so the field is skipped (unknown fields).
template <typename OnField>
Status ForEachField(Reader& r, OnField&& on_field) {
  while (!r.done()) {
    uint32_t field = 0;
    uint32_t wt = 0;
    DECODE_TRY(r.ReadTag(field, wt));
    bool handled = false;
    DECODE_TRY(on_field(field, wt, handled));
    if (!handled) DECODE_TRY(r.Skip(wt));
  }
  return {};
}

Status ReadString(Reader& r, uint32_t field, uint32_t wt, std::string& out) {
  DECODE_TRY(ExpectWireType(r, field, wt, wire::kLen));
  std::string_view v;
  DECODE_TRY(r.ReadLen(v));
  out.assign(v);
  return {};
}

Status ReadSub(Reader& r, uint32_t field, uint32_t wt, Reader& sub) {
  DECODE_TRY(ExpectWireType(r, field, wt, wire::kLen));
  std::string_view v;
  DECODE_TRY(r.ReadLen(v));
  sub = r.Sub(v);
  return {};
}

Status ReadVarintField(Reader& r, uint32_t field, uint32_t wt, uint64_t& out) {
  DECODE_TRY(ExpectWireType(r, field, wt, wire::kVarint));
  return r.ReadVarint(out);
}

Status ReadFixed64Field(Reader& r, uint32_t field, uint32_t wt, int64_t& out) {
  DECODE_TRY(ExpectWireType(r, field, wt, wire::kFixed64));
  uint64_t v = 0;
  DECODE_TRY(r.ReadFixed64(v));
  out = static_cast<int64_t>(v);
  return {};
}

Status ReadFixed32Field(Reader& r, uint32_t field, uint32_t wt, uint32_t& out) {
  DECODE_TRY(ExpectWireType(r, field, wt, wire::kFixed32));
  return r.ReadFixed32(out);
}

template <size_t N>
Status ReadId(Reader& r, uint32_t field, uint32_t wt, std::array<uint8_t, N>& out) {
  DECODE_TRY(ExpectWireType(r, field, wt, wire::kLen));
  std::string_view v;
  DECODE_TRY(r.ReadLen(v));
  if (v.empty()) {
    out = {};
    return {};
  }
  if (v.size() != N) return r.Error("id of " + std::to_string(v.size()) + " bytes");
  std::memcpy(out.data(), v.data(), N);
  return {};
}

// ---------- AnyValue (protobuf) ----------

void AppendJsonString(std::string_view s, std::string& out) {
  // nlohmann escapes correctly; invalid UTF-8 is replaced rather than thrown on.
  out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendJsonDouble(double d, std::string& out) {
  if (std::isnan(d)) {
    out += "\"NaN\"";
  } else if (std::isinf(d)) {
    out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    out += Json(d).dump();
  }
}

// AnyValue decoding. Scalars become the matching AttributeValue; arrays, kvlists and bytes are
// rendered as JSON text: arrays as JSON arrays, kvlists as objects, bytes as a base64 string, all
// nested values as plain JSON (ints as numbers, doubles as numbers or "NaN"/"Infinity").
Status DecodeAnyValueJsonText(Reader& r, int depth, std::string& json_out);

Status DecodeKvListJsonText(Reader& r, int depth, std::string& json_out) {
  json_out.push_back('{');
  bool first = true;
  DECODE_TRY(ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    if (field != 1) return {};
    handled = true;
    Reader kv(nullptr, nullptr, nullptr);
    DECODE_TRY(ReadSub(r, field, wt, kv));
    std::string key;
    std::string value = "null";
    DECODE_TRY(ForEachField(kv, [&](uint32_t f2, uint32_t wt2, bool& h2) -> Status {
      if (f2 == 1) {
        h2 = true;
        return ReadString(kv, f2, wt2, key);
      }
      if (f2 == 2) {
        h2 = true;
        Reader av(nullptr, nullptr, nullptr);
        DECODE_TRY(ReadSub(kv, f2, wt2, av));
        value.clear();
        return DecodeAnyValueJsonText(av, depth + 1, value);
      }
      return {};
    }));
    if (!first) json_out.push_back(',');
    first = false;
    AppendJsonString(key, json_out);
    json_out.push_back(':');
    json_out += value;
    return {};
  }));
  json_out.push_back('}');
  return {};
}

Status DecodeArrayJsonText(Reader& r, int depth, std::string& json_out) {
  json_out.push_back('[');
  bool first = true;
  DECODE_TRY(ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    if (field != 1) return {};
    handled = true;
    Reader av(nullptr, nullptr, nullptr);
    DECODE_TRY(ReadSub(r, field, wt, av));
    if (!first) json_out.push_back(',');
    first = false;
    std::string value;
    DECODE_TRY(DecodeAnyValueJsonText(av, depth + 1, value));
    json_out += value;
    return {};
  }));
  json_out.push_back(']');
  return {};
}

// Decodes an AnyValue into `value` (a string holding JSON text for arrays, kvlists and bytes).
Status DecodeAnyValue(Reader& r, int depth, AttributeValue& value) {
  if (depth > kMaxAnyValueDepth) return r.Error("AnyValue nested too deeply");
  value = std::string();
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    handled = true;
    switch (field) {
      case 1: {
        std::string s;
        DECODE_TRY(ReadString(r, field, wt, s));
        value = std::move(s);
        return {};
      }
      case 2: {
        uint64_t v = 0;
        DECODE_TRY(ReadVarintField(r, field, wt, v));
        value = v != 0;
        return {};
      }
      case 3: {
        uint64_t v = 0;
        DECODE_TRY(ReadVarintField(r, field, wt, v));
        value = static_cast<int64_t>(v);
        return {};
      }
      case 4: {
        DECODE_TRY(ExpectWireType(r, field, wt, wire::kFixed64));
        uint64_t bits = 0;
        DECODE_TRY(r.ReadFixed64(bits));
        double d = 0;
        std::memcpy(&d, &bits, sizeof d);
        value = d;
        return {};
      }
      case 5:
      case 6: {
        Reader sub(nullptr, nullptr, nullptr);
        DECODE_TRY(ReadSub(r, field, wt, sub));
        std::string text;
        if (field == 5) {
          DECODE_TRY(DecodeArrayJsonText(sub, depth + 1, text));
        } else {
          DECODE_TRY(DecodeKvListJsonText(sub, depth + 1, text));
        }
        value = std::move(text);
        return {};
      }
      case 7: {
        std::string raw;
        DECODE_TRY(ReadString(r, field, wt, raw));
        std::string text;
        AppendJsonString(core::Base64StdEncode(raw), text);
        value = std::move(text);
        return {};
      }
      default: handled = false; return {};
    }
  });
}

// Which oneof member an AnyValue holds (the last one on the wire wins); 0 when none.
Status AnyValueKind(Reader r, uint32_t& kind) {
  kind = 0;
  return ForEachField(r, [&](uint32_t field, uint32_t, bool&) -> Status {
    if (field >= 1 && field <= 7) kind = field;
    return {};
  });
}

Status DecodeAnyValueJsonText(Reader& r, int depth, std::string& json_out) {
  if (depth > kMaxAnyValueDepth) return r.Error("AnyValue nested too deeply");
  // Peek the kind: nested containers are already JSON text, scalars are rendered here.
  uint32_t kind = 0;
  DECODE_TRY(AnyValueKind(r, kind));
  AttributeValue v;
  DECODE_TRY(DecodeAnyValue(r, depth, v));
  if (kind == 0) {
    json_out += "null";
    return {};
  }
  switch (v.index()) {
    case 0: json_out += std::get<bool>(v) ? "true" : "false"; break;
    case 1: json_out += std::to_string(std::get<int64_t>(v)); break;
    case 2: AppendJsonDouble(std::get<double>(v), json_out); break;
    default:
      if (kind == 1) {
        AppendJsonString(std::get<std::string>(v), json_out);
      } else {
        json_out += std::get<std::string>(v);  // array/kvlist/bytes: already JSON text
      }
  }
  return {};
}

Status DecodeKeyValue(Reader& r, DecodedAttribute& out) {
  out.value = std::string();
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    if (field == 1) {
      handled = true;
      return ReadString(r, field, wt, out.key);
    }
    if (field == 2) {
      handled = true;
      Reader av(nullptr, nullptr, nullptr);
      DECODE_TRY(ReadSub(r, field, wt, av));
      return DecodeAnyValue(av, 0, out.value);
    }
    return {};
  });
}

Status ReadAttribute(Reader& r, uint32_t field, uint32_t wt, std::vector<DecodedAttribute>& out) {
  Reader kv(nullptr, nullptr, nullptr);
  DECODE_TRY(ReadSub(r, field, wt, kv));
  DECODE_TRY(Charge(sizeof(DecodedAttribute)));
  DecodedAttribute a;
  DECODE_TRY(DecodeKeyValue(kv, a));
  out.push_back(std::move(a));
  return {};
}

std::string ServiceNameOf(const std::vector<DecodedAttribute>& attrs) {
  for (const auto& a : attrs) {
    if (a.key == "service.name") {
      if (const auto* s = std::get_if<std::string>(&a.value)) return *s;
    }
  }
  return "unknown_service";
}

Status DecodeResource(Reader& r, DecodedResource& out) {
  DECODE_TRY(ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    if (field != 1) return {};
    handled = true;
    return ReadAttribute(r, field, wt, out.attributes);
  }));
  return {};
}

Status DecodeScopeName(Reader& r, std::string& name) {
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    if (field != 1) return {};
    handled = true;
    return ReadString(r, field, wt, name);
  });
}

// ---------- traces (protobuf) ----------

Status DecodeEvent(Reader& r, DecodedEvent& e) {
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    handled = true;
    switch (field) {
      case 1: return ReadFixed64Field(r, field, wt, e.time_unix_nano);
      case 2: return ReadString(r, field, wt, e.name);
      case 3: return ReadAttribute(r, field, wt, e.attributes);
      default: handled = false; return {};
    }
  });
}

Status DecodeLink(Reader& r, DecodedLink& l) {
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    handled = true;
    switch (field) {
      case 1: return ReadId(r, field, wt, l.trace_id.bytes);
      case 2: return ReadId(r, field, wt, l.span_id.bytes);
      case 3: return ReadString(r, field, wt, l.trace_state);
      case 4: return ReadAttribute(r, field, wt, l.attributes);
      default: handled = false; return {};
    }
  });
}

Status DecodeStatus(Reader& r, DecodedSpan& s) {
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    handled = true;
    switch (field) {
      case 2: return ReadString(r, field, wt, s.status_message);
      case 3: {
        uint64_t v = 0;
        DECODE_TRY(ReadVarintField(r, field, wt, v));
        s.status_code = static_cast<int>(static_cast<int32_t>(v));
        return {};
      }
      default: handled = false; return {};
    }
  });
}

Status ReadU32Varint(Reader& r, uint32_t field, uint32_t wt, uint32_t& out) {
  uint64_t v = 0;
  DECODE_TRY(ReadVarintField(r, field, wt, v));
  out = static_cast<uint32_t>(v);
  return {};
}

Status DecodeSpan(Reader& r, DecodedSpan& s) {
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    handled = true;
    switch (field) {
      case 1: return ReadId(r, field, wt, s.trace_id.bytes);
      case 2: return ReadId(r, field, wt, s.span_id.bytes);
      case 3: return ReadString(r, field, wt, s.trace_state);
      case 4: return ReadId(r, field, wt, s.parent_span_id.bytes);
      case 5: return ReadString(r, field, wt, s.name);
      case 6: {
        uint64_t v = 0;
        DECODE_TRY(ReadVarintField(r, field, wt, v));
        s.kind = static_cast<int>(static_cast<int32_t>(v));
        return {};
      }
      case 7: return ReadFixed64Field(r, field, wt, s.start_unix_nano);
      case 8: return ReadFixed64Field(r, field, wt, s.end_unix_nano);
      case 9: return ReadAttribute(r, field, wt, s.attributes);
      case 10: return ReadU32Varint(r, field, wt, s.dropped_attributes);
      case 11: {
        Reader sub(nullptr, nullptr, nullptr);
        DECODE_TRY(ReadSub(r, field, wt, sub));
        DECODE_TRY(Charge(sizeof(DecodedEvent)));
        DecodedEvent e;
        DECODE_TRY(DecodeEvent(sub, e));
        s.events.push_back(std::move(e));
        return {};
      }
      case 12: return ReadU32Varint(r, field, wt, s.dropped_events);
      case 13: {
        Reader sub(nullptr, nullptr, nullptr);
        DECODE_TRY(ReadSub(r, field, wt, sub));
        DECODE_TRY(Charge(sizeof(DecodedLink)));
        DecodedLink l;
        DECODE_TRY(DecodeLink(sub, l));
        s.links.push_back(std::move(l));
        return {};
      }
      case 14: return ReadU32Varint(r, field, wt, s.dropped_links);
      case 15: {
        Reader sub(nullptr, nullptr, nullptr);
        DECODE_TRY(ReadSub(r, field, wt, sub));
        return DecodeStatus(sub, s);
      }
      case 16: return ReadFixed32Field(r, field, wt, s.flags);
      default: handled = false; return {};
    }
  });
}

// Walks Request{1: Resource*{1: Resource, 2: Scope*{1: Scope, 2: item}}}, which traces and logs
// share; `on_item(reader, resource, scope_name)` decodes one span or log record.
template <typename OnItem>
Status WalkEnvelope(std::string_view body, OnItem&& on_item) {
  const auto* b = reinterpret_cast<const uint8_t*>(body.data());
  Reader top(b, b + body.size(), b);
  return ForEachField(top, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    if (field != 1) return {};
    handled = true;
    Reader rs(nullptr, nullptr, nullptr);
    DECODE_TRY(ReadSub(top, field, wt, rs));
    // The resource may come after the scopes on the wire; collect scopes first.
    auto resource = std::make_shared<DecodedResource>();
    std::vector<std::string_view> scopes;
    DECODE_TRY(ForEachField(rs, [&](uint32_t f2, uint32_t wt2, bool& h2) -> Status {
      if (f2 == 1) {
        h2 = true;
        Reader res(nullptr, nullptr, nullptr);
        DECODE_TRY(ReadSub(rs, f2, wt2, res));
        return DecodeResource(res, *resource);
      }
      if (f2 == 2) {
        h2 = true;
        DECODE_TRY(ExpectWireType(rs, f2, wt2, wire::kLen));
        std::string_view v;
        DECODE_TRY(rs.ReadLen(v));
        DECODE_TRY(Charge(sizeof(std::string_view)));
        scopes.push_back(v);
      }
      return {};
    }));
    resource->service_name = ServiceNameOf(resource->attributes);
    std::shared_ptr<const DecodedResource> shared = resource;
    for (std::string_view scope_bytes : scopes) {
      Reader ss = rs.Sub(scope_bytes);
      std::string scope_name;
      std::vector<std::string_view> items;
      DECODE_TRY(ForEachField(ss, [&](uint32_t f3, uint32_t wt3, bool& h3) -> Status {
        if (f3 == 1) {
          h3 = true;
          Reader sc(nullptr, nullptr, nullptr);
          DECODE_TRY(ReadSub(ss, f3, wt3, sc));
          return DecodeScopeName(sc, scope_name);
        }
        if (f3 == 2) {
          h3 = true;
          DECODE_TRY(ExpectWireType(ss, f3, wt3, wire::kLen));
          std::string_view v;
          DECODE_TRY(ss.ReadLen(v));
          DECODE_TRY(Charge(sizeof(std::string_view)));
          items.push_back(v);
        }
        return {};
      }));
      for (std::string_view item : items) {
        Reader ir = ss.Sub(item);
        DECODE_TRY(on_item(ir, shared, scope_name));
      }
    }
    return {};
  });
}

// ---------- logs (protobuf) ----------

Status DecodeLogRecord(Reader& r, DecodedLogRecord& l) {
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    handled = true;
    switch (field) {
      case 1: return ReadFixed64Field(r, field, wt, l.time_unix_nano);
      case 2: {
        uint64_t v = 0;
        DECODE_TRY(ReadVarintField(r, field, wt, v));
        l.severity_number = static_cast<int>(static_cast<int32_t>(v));
        return {};
      }
      case 3: return ReadString(r, field, wt, l.severity_text);
      case 5: {
        Reader av(nullptr, nullptr, nullptr);
        DECODE_TRY(ReadSub(r, field, wt, av));
        // String bodies as they are; anything else as its JSON text.
        uint32_t kind = 0;
        DECODE_TRY(AnyValueKind(av, kind));
        l.body.clear();
        if (kind == 1) {
          AttributeValue v;
          DECODE_TRY(DecodeAnyValue(av, 0, v));
          l.body = std::get<std::string>(std::move(v));
          return {};
        }
        return DecodeAnyValueJsonText(av, 0, l.body);
      }
      case 6: return ReadAttribute(r, field, wt, l.attributes);
      case 8: return ReadFixed32Field(r, field, wt, l.flags);
      case 9: return ReadId(r, field, wt, l.trace_id.bytes);
      case 10: return ReadId(r, field, wt, l.span_id.bytes);
      case 11: return ReadFixed64Field(r, field, wt, l.observed_time_unix_nano);
      default: handled = false; return {};
    }
  });
}

// ---------- JSON ----------

// Rejects nesting deeper than kMaxJsonDepth before parsing (strings are skipped), so recursion
// over the parsed tree is bounded.
bool JsonDepthOk(std::string_view body, size_t& containers) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++containers;
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

Status ParseJson(std::string_view body, Json& out) {
  size_t containers = 0;
  if (!JsonDepthOk(body, containers)) return InvalidArgument("JSON nested too deeply");
  DECODE_TRY(Charge(containers * kJsonContainerCost));
  out = Json::parse(body.begin(), body.end(), nullptr, false);
  if (out.is_discarded()) return InvalidArgument("malformed JSON");
  if (!out.is_object()) return InvalidArgument("JSON body is not an object");
  return {};
}

// Looks a key up under its lowerCamelCase name or its snake_case name; null counts as absent.
const Json* Field(const Json& obj, const char* camel, const char* snake = nullptr) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(camel);
  if (it != obj.end() && !it->is_null()) return &*it;
  if (snake != nullptr) {
    it = obj.find(snake);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

Status ArrayField(const Json& obj, const char* camel, const char* snake, const Json*& out) {
  out = Field(obj, camel, snake);
  if (out != nullptr && !out->is_array()) {
    return InvalidArgument(std::string(camel) + " is not an array");
  }
  return {};
}

Status ObjectField(const Json& obj, const char* camel, const char* snake, const Json*& out) {
  out = Field(obj, camel, snake);
  if (out != nullptr && !out->is_object()) {
    return InvalidArgument(std::string(camel) + " is not an object");
  }
  return {};
}

Status JsonString(const Json& obj, const char* camel, const char* snake, std::string& out) {
  const Json* v = Field(obj, camel, snake);
  if (v == nullptr) return {};
  if (!v->is_string()) return InvalidArgument(std::string(camel) + " is not a string");
  out = v->get<std::string>();
  return {};
}

// 64-bit integers arrive as decimal strings (the mapping) or as numbers (what some senders do).
Status JsonInt64(const Json& v, const char* name, int64_t& out) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      out = static_cast<int64_t>(v.get<uint64_t>());
    } else {
      out = v.get<int64_t>();
    }
    return {};
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.2e18) {
      return InvalidArgument(std::string(name) + " is not an integer");
    }
    out = static_cast<int64_t>(d);
    return {};
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return InvalidArgument(std::string(name) + " is empty");
    const char* b = s.data();
    const char* e = s.data() + s.size();
    if (*b == '-') {
      auto r = std::from_chars(b, e, out);
      if (r.ec == std::errc() && r.ptr == e) return {};
    } else {
      uint64_t u = 0;
      auto r = std::from_chars(b, e, u);
      if (r.ec == std::errc() && r.ptr == e) {
        out =
            static_cast<int64_t>(u);  // fixed64/uint64 values above INT64_MAX wrap, as on the wire
        return {};
      }
    }
  }
  return InvalidArgument(std::string(name) + " is not an integer");
}

Status JsonInt64Field(const Json& obj, const char* camel, const char* snake, int64_t& out) {
  const Json* v = Field(obj, camel, snake);
  if (v == nullptr) return {};
  return JsonInt64(*v, camel, out);
}

Status JsonU32Field(const Json& obj, const char* camel, const char* snake, uint32_t& out) {
  int64_t v = 0;
  DECODE_TRY(JsonInt64Field(obj, camel, snake, v));
  if (v < 0 || v > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument(std::string(camel) + " out of range");
  }
  out = static_cast<uint32_t>(v);
  return {};
}

// Enums as integers (the mapping) or by name (proto3 JSON), e.g. "SPAN_KIND_SERVER".
Status JsonEnum(const Json& obj, const char* camel, const char* snake,
                std::span<const std::string_view> names, int& out) {
  const Json* v = Field(obj, camel, snake);
  if (v == nullptr) return {};
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    int i = 0;
    for (std::string_view n : names) {
      if (s == n) {
        out = i;
        return {};
      }
      ++i;
    }
  }
  int64_t n = 0;
  if (!JsonInt64(*v, camel, n).ok() || n < std::numeric_limits<int32_t>::min() ||
      n > std::numeric_limits<int32_t>::max()) {
    return InvalidArgument(std::string(camel) + " is not a valid enum value");
  }
  out = static_cast<int>(n);
  return {};
}

template <size_t N>
Status JsonId(const Json& obj, const char* camel, const char* snake, std::array<uint8_t, N>& out) {
  const Json* v = Field(obj, camel, snake);
  if (v == nullptr) return {};
  if (!v->is_string()) return InvalidArgument(std::string(camel) + " is not a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.empty()) {
    out = {};
    return {};
  }
  if (!wire::DecodeId(s, out.data(), N)) {
    return InvalidArgument(std::string(camel) + " is neither hex nor base64 of " +
                           std::to_string(N) + " bytes");
  }
  return {};
}

Status JsonDouble(const Json& v, double& out) {
  if (v.is_number()) {
    out = v.get<double>();
    return {};
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "NaN") {
      out = std::numeric_limits<double>::quiet_NaN();
      return {};
    }
    if (s == "Infinity") {
      out = std::numeric_limits<double>::infinity();
      return {};
    }
    if (s == "-Infinity") {
      out = -std::numeric_limits<double>::infinity();
      return {};
    }
    auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return {};
  }
  return InvalidArgument("doubleValue is not a number");
}

Status JsonAnyValueText(const Json& v, int depth, std::string& out);

// Decodes an OTLP/JSON AnyValue object. `is_string` tells whether it was a stringValue.
Status JsonAnyValue(const Json& v, int depth, AttributeValue& out, bool* is_string = nullptr) {
  if (depth > kMaxAnyValueDepth) return InvalidArgument("AnyValue nested too deeply");
  if (!v.is_object()) return InvalidArgument("value is not an object");
  if (is_string != nullptr) *is_string = false;
  out = std::string();
  if (const Json* s = Field(v, "stringValue", "string_value")) {
    if (!s->is_string()) return InvalidArgument("stringValue is not a string");
    out = s->get<std::string>();
    if (is_string != nullptr) *is_string = true;
  } else if (const Json* b = Field(v, "boolValue", "bool_value")) {
    if (!b->is_boolean()) return InvalidArgument("boolValue is not a boolean");
    out = b->get<bool>();
  } else if (const Json* i = Field(v, "intValue", "int_value")) {
    int64_t n = 0;
    DECODE_TRY(JsonInt64(*i, "intValue", n));
    out = n;
  } else if (const Json* d = Field(v, "doubleValue", "double_value")) {
    double x = 0;
    DECODE_TRY(JsonDouble(*d, x));
    out = x;
  } else if (const Json* a = Field(v, "arrayValue", "array_value")) {
    std::string text = "[";
    const Json* values = nullptr;
    if (!a->is_object()) return InvalidArgument("arrayValue is not an object");
    DECODE_TRY(ArrayField(*a, "values", nullptr, values));
    if (values != nullptr) {
      bool first = true;
      for (const auto& e : *values) {
        if (!first) text.push_back(',');
        first = false;
        DECODE_TRY(JsonAnyValueText(e, depth + 1, text));
      }
    }
    text.push_back(']');
    out = std::move(text);
  } else if (const Json* kl = Field(v, "kvlistValue", "kvlist_value")) {
    std::string text = "{";
    const Json* values = nullptr;
    if (!kl->is_object()) return InvalidArgument("kvlistValue is not an object");
    DECODE_TRY(ArrayField(*kl, "values", nullptr, values));
    if (values != nullptr) {
      bool first = true;
      for (const auto& kv : *values) {
        if (!kv.is_object()) return InvalidArgument("kvlist entry is not an object");
        std::string key;
        DECODE_TRY(JsonString(kv, "key", nullptr, key));
        if (!first) text.push_back(',');
        first = false;
        AppendJsonString(key, text);
        text.push_back(':');
        const Json* val = Field(kv, "value");
        if (val == nullptr) {
          text += "null";
        } else {
          DECODE_TRY(JsonAnyValueText(*val, depth + 1, text));
        }
      }
    }
    text.push_back('}');
    out = std::move(text);
  } else if (const Json* by = Field(v, "bytesValue", "bytes_value")) {
    if (!by->is_string()) return InvalidArgument("bytesValue is not a string");
    auto raw = core::Base64AnyDecode(by->get_ref<const std::string&>());
    if (!raw.ok()) return InvalidArgument("bytesValue is not base64");
    std::string text;
    AppendJsonString(core::Base64StdEncode(*raw), text);
    out = std::move(text);
  }
  return {};
}

// Renders an AnyValue as JSON text (used inside arrays and kvlists).
Status JsonAnyValueText(const Json& v, int depth, std::string& out) {
  if (depth > kMaxAnyValueDepth) return InvalidArgument("AnyValue nested too deeply");
  if (!v.is_object()) return InvalidArgument("value is not an object");
  bool is_string = false;
  AttributeValue value;
  DECODE_TRY(JsonAnyValue(v, depth, value, &is_string));
  bool empty = Field(v, "stringValue", "string_value") == nullptr && v.empty();
  if (empty) {
    out += "null";
    return {};
  }
  switch (value.index()) {
    case 0: out += std::get<bool>(value) ? "true" : "false"; break;
    case 1: out += std::to_string(std::get<int64_t>(value)); break;
    case 2: AppendJsonDouble(std::get<double>(value), out); break;
    default:
      if (is_string) {
        AppendJsonString(std::get<std::string>(value), out);
      } else {
        out += std::get<std::string>(value);
      }
  }
  return {};
}

Status JsonAttributes(const Json& obj, std::vector<DecodedAttribute>& out) {
  const Json* attrs = nullptr;
  DECODE_TRY(ArrayField(obj, "attributes", nullptr, attrs));
  if (attrs == nullptr) return {};
  for (const auto& kv : *attrs) {
    if (!kv.is_object()) return InvalidArgument("attribute is not an object");
    DECODE_TRY(Charge(sizeof(DecodedAttribute)));
    DecodedAttribute a;
    DECODE_TRY(JsonString(kv, "key", nullptr, a.key));
    a.value = std::string();
    if (const Json* val = Field(kv, "value")) DECODE_TRY(JsonAnyValue(*val, 0, a.value));
    out.push_back(std::move(a));
  }
  return {};
}

constexpr std::string_view kSpanKindNames[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                               "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                               "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
constexpr std::string_view kStatusCodeNames[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                                 "STATUS_CODE_ERROR"};
// SeverityNumber names, indexed by number (0 unspecified, 1 TRACE … 24 FATAL4).
constexpr std::string_view kSeverityNames[] = {
    "SEVERITY_NUMBER_UNSPECIFIED", "SEVERITY_NUMBER_TRACE",  "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",      "SEVERITY_NUMBER_TRACE4", "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",      "SEVERITY_NUMBER_DEBUG3", "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",        "SEVERITY_NUMBER_INFO2",  "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",       "SEVERITY_NUMBER_WARN",   "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",       "SEVERITY_NUMBER_WARN4",  "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",      "SEVERITY_NUMBER_ERROR3", "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",       "SEVERITY_NUMBER_FATAL2", "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4"};

Status JsonSpan(const Json& j, DecodedSpan& s) {
  if (!j.is_object()) return InvalidArgument("span is not an object");
  DECODE_TRY(JsonId(j, "traceId", "trace_id", s.trace_id.bytes));
  DECODE_TRY(JsonId(j, "spanId", "span_id", s.span_id.bytes));
  DECODE_TRY(JsonId(j, "parentSpanId", "parent_span_id", s.parent_span_id.bytes));
  DECODE_TRY(JsonString(j, "traceState", "trace_state", s.trace_state));
  DECODE_TRY(JsonU32Field(j, "flags", nullptr, s.flags));
  DECODE_TRY(JsonString(j, "name", nullptr, s.name));
  DECODE_TRY(JsonEnum(j, "kind", nullptr, kSpanKindNames, s.kind));
  DECODE_TRY(JsonInt64Field(j, "startTimeUnixNano", "start_time_unix_nano", s.start_unix_nano));
  DECODE_TRY(JsonInt64Field(j, "endTimeUnixNano", "end_time_unix_nano", s.end_unix_nano));
  DECODE_TRY(JsonAttributes(j, s.attributes));
  DECODE_TRY(
      JsonU32Field(j, "droppedAttributesCount", "dropped_attributes_count", s.dropped_attributes));
  DECODE_TRY(JsonU32Field(j, "droppedEventsCount", "dropped_events_count", s.dropped_events));
  DECODE_TRY(JsonU32Field(j, "droppedLinksCount", "dropped_links_count", s.dropped_links));
  const Json* events = nullptr;
  DECODE_TRY(ArrayField(j, "events", nullptr, events));
  if (events != nullptr) {
    for (const auto& ej : *events) {
      if (!ej.is_object()) return InvalidArgument("event is not an object");
      DECODE_TRY(Charge(sizeof(DecodedEvent)));
      DecodedEvent e;
      DECODE_TRY(JsonInt64Field(ej, "timeUnixNano", "time_unix_nano", e.time_unix_nano));
      DECODE_TRY(JsonString(ej, "name", nullptr, e.name));
      DECODE_TRY(JsonAttributes(ej, e.attributes));
      s.events.push_back(std::move(e));
    }
  }
  const Json* links = nullptr;
  DECODE_TRY(ArrayField(j, "links", nullptr, links));
  if (links != nullptr) {
    for (const auto& lj : *links) {
      if (!lj.is_object()) return InvalidArgument("link is not an object");
      DECODE_TRY(Charge(sizeof(DecodedLink)));
      DecodedLink l;
      DECODE_TRY(JsonId(lj, "traceId", "trace_id", l.trace_id.bytes));
      DECODE_TRY(JsonId(lj, "spanId", "span_id", l.span_id.bytes));
      DECODE_TRY(JsonString(lj, "traceState", "trace_state", l.trace_state));
      DECODE_TRY(JsonAttributes(lj, l.attributes));
      s.links.push_back(std::move(l));
    }
  }
  const Json* status = nullptr;
  DECODE_TRY(ObjectField(j, "status", nullptr, status));
  if (status != nullptr) {
    DECODE_TRY(JsonString(*status, "message", nullptr, s.status_message));
    DECODE_TRY(JsonEnum(*status, "code", nullptr, kStatusCodeNames, s.status_code));
  }
  return {};
}

Status JsonLogRecord(const Json& j, DecodedLogRecord& l) {
  if (!j.is_object()) return InvalidArgument("log record is not an object");
  DECODE_TRY(JsonInt64Field(j, "timeUnixNano", "time_unix_nano", l.time_unix_nano));
  DECODE_TRY(JsonInt64Field(j, "observedTimeUnixNano", "observed_time_unix_nano",
                            l.observed_time_unix_nano));
  DECODE_TRY(JsonEnum(j, "severityNumber", "severity_number", kSeverityNames, l.severity_number));
  DECODE_TRY(JsonString(j, "severityText", "severity_text", l.severity_text));
  if (const Json* body = Field(j, "body")) {
    bool is_string = false;
    AttributeValue v;
    DECODE_TRY(JsonAnyValue(*body, 0, v, &is_string));
    if (is_string) {
      l.body = std::get<std::string>(v);
    } else {
      std::string text;
      DECODE_TRY(JsonAnyValueText(*body, 0, text));
      l.body = std::move(text);
    }
  }
  DECODE_TRY(JsonAttributes(j, l.attributes));
  DECODE_TRY(JsonU32Field(j, "flags", nullptr, l.flags));
  DECODE_TRY(JsonId(j, "traceId", "trace_id", l.trace_id.bytes));
  DECODE_TRY(JsonId(j, "spanId", "span_id", l.span_id.bytes));
  return {};
}

// Walks {resourceX:[{resource, scopeX:[{scope, items:[...]}]}]} shared by traces and logs.
template <typename OnItem>
Status WalkJsonEnvelope(const Json& root, const char* resource_key, const char* resource_snake,
                        const char* scope_key, const char* scope_snake, const char* items_key,
                        const char* items_snake, OnItem&& on_item) {
  const Json* resources = nullptr;
  DECODE_TRY(ArrayField(root, resource_key, resource_snake, resources));
  if (resources == nullptr) return {};
  for (const auto& rj : *resources) {
    if (!rj.is_object()) return InvalidArgument("resource entry is not an object");
    auto resource = std::make_shared<DecodedResource>();
    const Json* res = nullptr;
    DECODE_TRY(ObjectField(rj, "resource", nullptr, res));
    if (res != nullptr) DECODE_TRY(JsonAttributes(*res, resource->attributes));
    resource->service_name = ServiceNameOf(resource->attributes);
    std::shared_ptr<const DecodedResource> shared = resource;
    const Json* scopes = nullptr;
    DECODE_TRY(ArrayField(rj, scope_key, scope_snake, scopes));
    if (scopes == nullptr) continue;
    for (const auto& sj : *scopes) {
      if (!sj.is_object()) return InvalidArgument("scope entry is not an object");
      std::string scope_name;
      const Json* scope = nullptr;
      DECODE_TRY(ObjectField(sj, "scope", nullptr, scope));
      if (scope != nullptr) DECODE_TRY(JsonString(*scope, "name", nullptr, scope_name));
      const Json* items = nullptr;
      DECODE_TRY(ArrayField(sj, items_key, items_snake, items));
      if (items == nullptr) continue;
      for (const auto& item : *items) DECODE_TRY(on_item(item, shared, scope_name));
    }
  }
  return {};
}

// ---------- metrics counting ----------

Status CountDataPoints(Reader& r, uint64_t& count) {
  return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
    if (field != 1) return {};
    handled = true;
    DECODE_TRY(ExpectWireType(r, field, wt, wire::kLen));
    std::string_view v;
    DECODE_TRY(r.ReadLen(v));
    ++count;
    return {};
  });
}

// Appends one span or log record of a scope: charged first (its size and its copy of the scope
// name), then given its resource and scope and decoded by `decode` (protobuf or JSON).
template <typename Item, typename Source, typename Decode>
Status AppendItem(std::vector<Item>& out, Source& source,
                  const std::shared_ptr<const DecodedResource>& resource, const std::string& scope,
                  Decode decode) {
  DECODE_TRY(Charge(sizeof(Item) + scope.size()));
  Item item;
  item.resource = resource;
  item.scope_name = scope;
  DECODE_TRY(decode(source, item));
  out.push_back(std::move(item));
  return {};
}

}  // namespace

core::Result<std::vector<DecodedSpan>> DecodeTracesProtobuf(std::string_view body) {
  DecodeScope budget(body);
  std::vector<DecodedSpan> spans;
  Status st = WalkEnvelope(
      body, [&](Reader& r, const std::shared_ptr<const DecodedResource>& res,
                const std::string& scope) { return AppendItem(spans, r, res, scope, DecodeSpan); });
  if (!st.ok()) return st;
  return spans;
}

core::Result<std::vector<DecodedLogRecord>> DecodeLogsProtobuf(std::string_view body) {
  DecodeScope budget(body);
  std::vector<DecodedLogRecord> records;
  Status st = WalkEnvelope(body, [&](Reader& r, const std::shared_ptr<const DecodedResource>& res,
                                     const std::string& scope) {
    return AppendItem(records, r, res, scope, DecodeLogRecord);
  });
  if (!st.ok()) return st;
  return records;
}

core::Result<std::vector<DecodedSpan>> DecodeTracesJson(std::string_view body) {
  DecodeScope budget(body);
  Json root;
  if (Status st = ParseJson(body, root); !st.ok()) return st;
  std::vector<DecodedSpan> spans;
  Status st = WalkJsonEnvelope(
      root, "resourceSpans", "resource_spans", "scopeSpans", "scope_spans", "spans", nullptr,
      [&](const Json& j, const std::shared_ptr<const DecodedResource>& res,
          const std::string& scope) { return AppendItem(spans, j, res, scope, JsonSpan); });
  if (!st.ok()) return st;
  return spans;
}

core::Result<std::vector<DecodedLogRecord>> DecodeLogsJson(std::string_view body) {
  DecodeScope budget(body);
  Json root;
  if (Status st = ParseJson(body, root); !st.ok()) return st;
  std::vector<DecodedLogRecord> records;
  Status st = WalkJsonEnvelope(
      root, "resourceLogs", "resource_logs", "scopeLogs", "scope_logs", "logRecords", "log_records",
      [&](const Json& j, const std::shared_ptr<const DecodedResource>& res,
          const std::string& scope) { return AppendItem(records, j, res, scope, JsonLogRecord); });
  if (!st.ok()) return st;
  return records;
}

// ExportMetricsServiceRequest{1: ResourceMetrics{2: ScopeMetrics{2: Metric{5 gauge, 7 sum,
// 9 histogram, 10 exponential_histogram, 11 summary: {1: data_points}}}}}.
core::Result<uint64_t> CountMetricPointsProtobuf(std::string_view body) {
  DecodeScope budget(body);
  const auto* b = reinterpret_cast<const uint8_t*>(body.data());
  Reader top(b, b + body.size(), b);
  uint64_t count = 0;
  auto sub_messages = [](Reader& r, uint32_t want, auto&& on_sub) -> Status {
    return ForEachField(r, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
      if (field != want) return {};
      handled = true;
      Reader sub(nullptr, nullptr, nullptr);
      DECODE_TRY(ReadSub(r, field, wt, sub));
      return on_sub(sub);
    });
  };
  Status st = sub_messages(top, 1, [&](Reader& rm) -> Status {
    return sub_messages(rm, 2, [&](Reader& sm) -> Status {
      return sub_messages(sm, 2, [&](Reader& metric) -> Status {
        return ForEachField(metric, [&](uint32_t field, uint32_t wt, bool& handled) -> Status {
          if (field != 5 && field != 7 && field != 9 && field != 10 && field != 11) return {};
          handled = true;
          Reader data(nullptr, nullptr, nullptr);
          DECODE_TRY(ReadSub(metric, field, wt, data));
          return CountDataPoints(data, count);
        });
      });
    });
  });
  if (!st.ok()) return st;
  return count;
}

core::Result<uint64_t> CountMetricPointsJson(std::string_view body) {
  DecodeScope budget(body);
  Json root;
  if (Status st = ParseJson(body, root); !st.ok()) return st;
  uint64_t count = 0;
  auto each = [](const Json& obj, const char* camel, const char* snake, auto&& fn) -> Status {
    const Json* arr = nullptr;
    DECODE_TRY(ArrayField(obj, camel, snake, arr));
    if (arr == nullptr) return {};
    for (const auto& e : *arr) {
      if (!e.is_object()) return InvalidArgument(std::string(camel) + " entry is not an object");
      DECODE_TRY(fn(e));
    }
    return {};
  };
  Status st = each(root, "resourceMetrics", "resource_metrics", [&](const Json& rm) -> Status {
    return each(rm, "scopeMetrics", "scope_metrics", [&](const Json& sm) -> Status {
      return each(sm, "metrics", nullptr, [&](const Json& m) -> Status {
        static constexpr std::pair<const char*, const char*> kKinds[] = {
            {"gauge", nullptr},
            {"sum", nullptr},
            {"histogram", nullptr},
            {"exponentialHistogram", "exponential_histogram"},
            {"summary", nullptr}};
        for (const auto& [camel, snake] : kKinds) {
          const Json* data = nullptr;
          DECODE_TRY(ObjectField(m, camel, snake, data));
          if (data == nullptr) continue;
          const Json* points = nullptr;
          DECODE_TRY(ArrayField(*data, "dataPoints", "data_points", points));
          if (points != nullptr) count += points->size();
        }
        return {};
      });
    });
  });
  if (!st.ok()) return st;
  return count;
}

}  // namespace chat::telemetry::sdk
