// Private helpers for the OTLP encoders and decoders: a protobuf wire writer that writes into a
// buffer sized in advance (every length is computed exactly before it is written, so the output is
// canonical protobuf, byte-identical to what protoc produces), a bounds-checked wire reader, and
// hex/base64/UTF-8 utilities shared by the JSON encoder and decoder.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "chat/core/status.hpp"
#include "chat/telemetry/log.hpp"

namespace chat::telemetry::sdk::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

constexpr size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

constexpr uint32_t MakeTag(uint32_t field, WireType wt) { return (field << 3) | wt; }
constexpr size_t TagSize(uint32_t field) { return VarintSize(MakeTag(field, kVarint)); }

// Size of a length-delimited field (tag + length + payload).
constexpr size_t LenFieldSize(uint32_t field, size_t payload) {
  return TagSize(field) + VarintSize(payload) + payload;
}

bool IsValidUtf8Slow(std::string_view s, size_t from);

// Returns true when `s` is valid UTF-8 (protobuf string fields and JSON must be). ASCII, the
// common case, is checked inline eight bytes at a time; the first non-ASCII byte hands over to
// the full check.
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  for (; i + 8 <= n; i += 8) {
    uint64_t chunk = 0;
    std::memcpy(&chunk, s.data() + i, 8);
    if ((chunk & 0x8080808080808080ULL) != 0) return IsValidUtf8Slow(s, i);
  }
  for (; i < n; ++i) {
    if (static_cast<uint8_t>(s[i]) >= 0x80) return IsValidUtf8Slow(s, i);
  }
  return true;
}
// Replaces each invalid UTF-8 sequence with U+FFFD.
std::string SanitizeUtf8(std::string_view s);

// Writes into memory that the caller has already sized exactly; no bounds checks here because
// every size is computed by the matching *Size function first (checked once at the end).
class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  char* pos() const { return p_; }

  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(static_cast<uint8_t>(v) | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void Tag(uint32_t field, WireType wt) { Varint(MakeTag(field, wt)); }
  void Fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      *p_++ = static_cast<char>(static_cast<uint8_t>(v >> (8 * i)));
    }
  }
  void Fixed32(uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      *p_++ = static_cast<char>(static_cast<uint8_t>(v >> (8 * i)));
    }
  }
  void Raw(const void* data, size_t n) {
    if (n != 0) std::memcpy(p_, data, n);
    p_ += n;
  }
  void LenHeader(uint32_t field, size_t len) {
    Tag(field, kLen);
    Varint(len);
  }
  void BytesField(uint32_t field, std::string_view s) {
    LenHeader(field, s.size());
    Raw(s.data(), s.size());
  }
  void VarintField(uint32_t field, uint64_t v) {
    Tag(field, kVarint);
    Varint(v);
  }
  void Fixed64Field(uint32_t field, uint64_t v) {
    Tag(field, kFixed64);
    Fixed64(v);
  }
  void Fixed32Field(uint32_t field, uint32_t v) {
    Tag(field, kFixed32);
    Fixed32(v);
  }

 private:
  char* p_;
};

// Bounds-checked reader over one message. Offsets in errors are relative to the whole body.
class Reader {
 public:
  Reader(const uint8_t* begin, const uint8_t* end, const uint8_t* base)
      : p_(begin), end_(end), base_(base) {}

  bool done() const { return p_ >= end_; }
  size_t offset() const { return static_cast<size_t>(p_ - base_); }

  core::Status ReadVarint(uint64_t& out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) return Error("truncated varint");
      uint8_t b = *p_++;
      if (shift == 63 && b > 1) return Error("varint overflow");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        out = v;
        return {};
      }
    }
    return Error("varint longer than 10 bytes");
  }
  core::Status ReadTag(uint32_t& field, uint32_t& wire_type) {
    uint64_t tag = 0;
    if (auto s = ReadVarint(tag); !s.ok()) return s;
    field = static_cast<uint32_t>(tag >> 3);
    wire_type = static_cast<uint32_t>(tag & 7);
    if (field == 0 || tag > 0xffffffffULL) return Error("invalid field number");
    return {};
  }
  core::Status ReadFixed64(uint64_t& out) {
    if (end_ - p_ < 8) return Error("truncated fixed64");
    out = 0;
    for (int i = 0; i < 8; ++i) out |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += 8;
    return {};
  }
  core::Status ReadFixed32(uint32_t& out) {
    if (end_ - p_ < 4) return Error("truncated fixed32");
    out = 0;
    for (int i = 0; i < 4; ++i) out |= static_cast<uint32_t>(p_[i]) << (8 * i);
    p_ += 4;
    return {};
  }
  // Reads a length-delimited payload and returns a reader over it.
  core::Status ReadLen(std::string_view& out) {
    uint64_t len = 0;
    if (auto s = ReadVarint(len); !s.ok()) return s;
    if (len > static_cast<uint64_t>(end_ - p_)) return Error("length past the end");
    out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(len));
    p_ += len;
    return {};
  }
  Reader Sub(std::string_view payload) const {
    const auto* b = reinterpret_cast<const uint8_t*>(payload.data());
    return Reader(b, b + payload.size(), base_);
  }
  core::Status Skip(uint32_t wire_type) {
    switch (wire_type) {
      case kVarint: {
        uint64_t v = 0;
        return ReadVarint(v);
      }
      case kFixed64: {
        uint64_t v = 0;
        return ReadFixed64(v);
      }
      case kLen: {
        std::string_view v;
        return ReadLen(v);
      }
      case kFixed32: {
        uint32_t v = 0;
        return ReadFixed32(v);
      }
      default: return Error("unsupported wire type " + std::to_string(wire_type));
    }
  }
  core::Status Error(const std::string& what) const {
    return core::InvalidArgument(what + " at byte " + std::to_string(offset()));
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* base_;
};

template <size_t N>
bool IsNonZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return true;
  }
  return false;
}

// OTLP severity_text for our levels (kept here so the wire code has no other dependency).
constexpr std::string_view SeverityText(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "INFO";
}

// Lowercase hex of `n` bytes appended to `out`.
void AppendHex(const uint8_t* bytes, size_t n, std::string& out);
// Decodes an id given as 2n lowercase/uppercase hex chars, or as base64 (standard or URL-safe,
// padded or not) of n bytes; false when it is neither.
bool DecodeId(std::string_view text, uint8_t* out, size_t n);

}  // namespace chat::telemetry::sdk::wire
