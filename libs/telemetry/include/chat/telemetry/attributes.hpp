// Attribute keys and values for spans, events, links and log records.
//
// AttrKey has a consteval constructor: every key is a compile-time constant (a literal or a
// semconv.hpp constant), so records can store a string_view without copying or allocating and a
// key can never dangle. Values own their data. Resource attributes, whose keys come from the
// environment, use OwnedAttribute instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace chat::telemetry {

class AttrKey {
 public:
  consteval AttrKey(const char* key) : key_(key) {}       // NOLINT(google-explicit-constructor)
  consteval AttrKey(std::string_view key) : key_(key) {}  // NOLINT(google-explicit-constructor)
  constexpr std::string_view view() const { return key_; }

 private:
  std::string_view key_;
};

using AttributeValue = std::variant<bool, int64_t, double, std::string>;

struct Attribute {
  std::string_view key;  // static storage (from an AttrKey)
  AttributeValue value;

  Attribute(AttrKey k, AttributeValue v) : key(k.view()), value(std::move(v)) {}
  Attribute(AttrKey k, const char* v) : key(k.view()), value(std::string(v)) {}
  Attribute(AttrKey k, std::string_view v) : key(k.view()), value(std::string(v)) {}
  // Without this, {key, some_std_string} is ambiguous (AttributeValue vs string_view).
  Attribute(AttrKey k, std::string v) : key(k.view()), value(std::move(v)) {}
  // Exact-match overloads: without them {key, 1.5} is ambiguous and {key, true} would pick the
  // int overload (bool → int promotion) and record 1 instead of true.
  Attribute(AttrKey k, bool v) : key(k.view()), value(v) {}
  Attribute(AttrKey k, double v) : key(k.view()), value(v) {}
  Attribute(AttrKey k, int v) : key(k.view()), value(static_cast<int64_t>(v)) {}
  Attribute(AttrKey k, unsigned v) : key(k.view()), value(static_cast<int64_t>(v)) {}
  Attribute(AttrKey k, long v) : key(k.view()), value(static_cast<int64_t>(v)) {}
  Attribute(AttrKey k, unsigned long v) : key(k.view()), value(static_cast<int64_t>(v)) {}
  Attribute(AttrKey k, long long v) : key(k.view()), value(static_cast<int64_t>(v)) {}
};

struct OwnedAttribute {
  std::string key;
  AttributeValue value;
};

}  // namespace chat::telemetry
