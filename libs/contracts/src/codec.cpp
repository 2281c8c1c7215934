#include "json_util.hpp"

namespace chat::contracts::internal {
namespace {

std::string_view TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a fractional number";
    default: return "an unsupported value";
  }
}

bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

}  // namespace

core::Result<Json> ParsePayload(std::string_view text, std::string_view type, bool allow_empty) {
  if (text.size() > kMaxPayloadBytes) {
    return core::InvalidArgument(std::string(type) + ": payload exceeds 65536 bytes");
  }
  if (allow_empty && IsBlank(text)) return Json::object();
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return core::InvalidArgument(std::string(type) + ": payload is not valid JSON");
  }
  return j;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Reader::Reader(const Json& j, std::string path) : j_(j), path_(std::move(path)) {}

std::string Reader::Sub(std::string_view key) const { return path_ + "." + std::string(key); }

void Reader::Fail(std::string_view key, std::string_view problem) {
  if (!status_.ok()) return;
  status_ =
      core::InvalidArgument(path_ + ": field '" + std::string(key) + "' " + std::string(problem));
}

void Reader::Check(std::string_view key, const core::Status& s) {
  if (!s.ok()) Fail(key, "is invalid: " + s.message());
}

const Json* Reader::Find(std::string_view key, Need need) {
  if (!status_.ok()) return nullptr;
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) {
    if (need != Need::kOptional) Fail(key, "is required");
    return nullptr;
  }
  return &*it;
}

void Reader::Str(std::string_view key, std::string& out, Need need, std::size_t max_bytes) {
  const Json* v = Find(key, need);
  if (v == nullptr) return;
  if (!v->is_string()) {
    Fail(key, "must be a string, not " + std::string(TypeName(*v)));
    return;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (need == Need::kNonEmpty && s.empty()) {
    Fail(key, "must not be empty");
    return;
  }
  if (s.size() > max_bytes) {
    Fail(key, "exceeds " + std::to_string(max_bytes) + " bytes");
    return;
  }
  out = s;
}

void Reader::Int(std::string_view key, std::int64_t& out, Need need, std::int64_t min) {
  const Json* v = Find(key, need);
  if (v == nullptr) return;
  if (v->is_number_unsigned()) {
    auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX)) {
      Fail(key, "is out of range");
      return;
    }
    out = static_cast<std::int64_t>(u);
  } else if (v->is_number_integer()) {
    out = v->get<std::int64_t>();
  } else {
    Fail(key, "must be an integer, not " + std::string(TypeName(*v)));
    return;
  }
  if (out < min) Fail(key, "must be >= " + std::to_string(min));
}

void Reader::Bool(std::string_view key, bool& out, Need need) {
  const Json* v = Find(key, need);
  if (v == nullptr) return;
  if (!v->is_boolean()) {
    Fail(key, "must be a boolean, not " + std::string(TypeName(*v)));
    return;
  }
  out = v->get<bool>();
}

void Reader::StrList(std::string_view key, std::vector<std::string>& out, Need need,
                     std::size_t max_items) {
  const Json* v = Find(key, need);
  if (v == nullptr) return;
  if (!v->is_array()) {
    Fail(key, "must be an array of strings, not " + std::string(TypeName(*v)));
    return;
  }
  if (v->size() > max_items) {
    Fail(key, "has more than " + std::to_string(max_items) + " elements");
    return;
  }
  std::vector<std::string> items;
  for (const auto& e : *v) {
    if (!e.is_string()) {
      Fail(key, "must be an array of strings");
      return;
    }
    items.push_back(e.get<std::string>());
  }
  if (need == Need::kNonEmpty && items.empty()) {
    Fail(key, "must not be empty");
    return;
  }
  out = std::move(items);
}

void Reader::User(std::string_view key, std::string& out, Need need) {
  std::string v;
  Str(key, v, need == Need::kOptional ? Need::kOptional : Need::kNonEmpty, kMaxShortFieldBytes);
  if (!ok() || v.empty()) return;
  Check(key, ValidateUsername(v));
  if (ok()) out = std::move(v);
}

void Reader::Room(std::string_view key, std::string& out, Need need) {
  std::string v;
  Str(key, v, need == Need::kOptional ? Need::kOptional : Need::kNonEmpty, kMaxShortFieldBytes);
  if (!ok() || v.empty()) return;
  Check(key, ValidateRoomKey(v));
  if (ok()) out = std::move(v);
}

core::Status ExpectObject(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return core::InvalidArgument(path + ": must be a JSON object, not " + std::string(TypeName(j)));
  }
  return core::Status::Ok();
}

}  // namespace chat::contracts::internal
