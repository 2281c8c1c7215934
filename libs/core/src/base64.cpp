#include "chat/core/base64.hpp"

namespace chat::core {
namespace {

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(const uint8_t* data, size_t n, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  size_t rest = n - i;
  if (rest == 1) {
    uint32_t v = uint32_t{data[i]} << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out += "=";
  }
  return out;
}

const uint8_t* AsBytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

int Value(char c, bool accept_std) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-' || (accept_std && c == '+')) return 62;
  if (c == '_' || (accept_std && c == '/')) return 63;
  return -1;
}

Result<std::string> Decode(std::string_view text, bool accept_std, std::string_view name) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return InvalidArgument("invalid " + std::string(name) + " length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Value(c, accept_std);
    if (v < 0) return InvalidArgument("invalid " + std::string(name) + " character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace

std::string Base64StdEncode(std::string_view data) {
  return Encode(AsBytes(data), data.size(), kStdAlphabet, true);
}
std::string Base64StdEncode(std::span<const uint8_t> data) {
  return Encode(data.data(), data.size(), kStdAlphabet, true);
}
std::string Base64UrlEncode(std::string_view data) {
  return Encode(AsBytes(data), data.size(), kUrlAlphabet, false);
}
std::string Base64UrlEncode(std::span<const uint8_t> data) {
  return Encode(data.data(), data.size(), kUrlAlphabet, false);
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, /*accept_std=*/false, "base64url");
}
Result<std::string> Base64AnyDecode(std::string_view text) {
  return Decode(text, /*accept_std=*/true, "base64");
}

}  // namespace chat::core
